import { ImapFlow } from "imapflow";
import type { Logger } from "pino";
import type { ApplyReportDeps } from "../bounces/apply.js";
import { PARSED_BYTES } from "../bounces/parse.js";
import { applyParsedReport, type MailedReportOutcome } from "./mailed-report.js";
import { type MessageReader, startReadPool, UnreadableMessage } from "./read-pool.js";

/** Where BOUNCE_IMAP_URL points: `imaps://user:password@host[:port]/Mailbox` (`imap://` unencrypted). */
export interface ImapTarget {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password: string;
  mailbox: string;
}

export function parseImapUrl(value: string): ImapTarget {
  const url = new URL(value);
  if (url.protocol !== "imaps:" && url.protocol !== "imap:")
    throw new Error("must start with imaps:// or imap://");
  const secure = url.protocol === "imaps:";
  const mailbox = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, "")) || "INBOX";
  if (!url.username) throw new Error("needs a user name (imaps://user:password@host/Mailbox)");
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 993 : 143,
    secure,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    mailbox,
  };
}

export interface BounceMailboxDeps {
  report: ApplyReportDeps;
  log: Pick<Logger, "info" | "warn">;
  /** Called once per message read, with what became of it (a Prometheus counter, or a test). */
  count?: (result: MailedReportOutcome["result"]) => void;
  /** Reads messages off the event loop; default: a pool of this reader's own, closed with it. */
  reader?: MessageReader;
}

export interface BounceMailboxOptions {
  /** How often the mailbox is read again without news from the server (IDLE or NOOP polling). */
  pollSeconds?: number;
  /** Pause before reconnecting after the connection failed. */
  reconnectSeconds?: number;
}

export interface BounceMailbox {
  /** Resolves once a pass over the mailbox has finished after this call (tests wait on it). */
  settled(): Promise<void>;
  /** Two phases: stop reading new messages, finish the one in hand (apply, then move), log out. */
  close(): Promise<void>;
}

/**
 * Reads bounces a relay delivers to a mailbox (relays that rewrite the return path): each message is
 * applied, then moved to `<Mailbox>/Processed`, or to `<Mailbox>/Unparsed` when it is no report at
 * all or could not be read (reading took too long or killed its thread): such a message is read
 * once, not again at every start. Apply-then-move means a reader stopped between the two reads the message again, and the
 * policy records a report only once per delivery (mailed-report.ts), so nothing is lost or applied
 * twice. The server's IDLE tells us of new mail at once; imapflow polls with NOOP where there is none.
 */
export function startBounceMailbox(
  deps: BounceMailboxDeps,
  url: string,
  options: BounceMailboxOptions = {},
): BounceMailbox {
  const target = parseImapUrl(url);
  const pollMs = (options.pollSeconds ?? 60) * 1000;
  const reconnectMs = (options.reconnectSeconds ?? 10) * 1000;
  const reader = deps.reader ?? startReadPool();
  let stopping = false;
  // News (new mail, a test asking, a stop) that came while no one was sleeping is kept for the
  // next sleep, so a message arriving during a pass is read right after it.
  let news = false;
  let wakeSleeper: (() => void) | undefined;
  const wake = () => {
    news = true;
    wakeSleeper?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (news) {
        news = false;
        return resolve();
      }
      const done = () => {
        clearTimeout(timer);
        wakeSleeper = undefined;
        news = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakeSleeper = done;
    });
  let started = 0;
  const waiters: { after: number; resolve: () => void }[] = [];
  let client: ImapFlow | undefined;

  const passDone = (pass: number) => {
    for (const w of waiters.splice(0)) {
      if (pass > w.after) w.resolve();
      else waiters.push(w);
    }
  };

  async function drain(imap: ImapFlow, processed: string, unparsed: string): Promise<void> {
    const uids = (await imap.search({ all: true }, { uid: true })) || [];
    for (const uid of uids) {
      if (stopping) return;
      // Only the bytes the parser reads come over the wire: a message of hundreds of MB in the
      // mailbox (a returned attachment, an attack) costs no more memory than one of 1 MB.
      const message = await imap.fetchOne(
        String(uid),
        { source: { maxLength: PARSED_BYTES } },
        { uid: true },
      );
      if (message === false || !message.source) continue;
      let read: Awaited<ReturnType<MessageReader["read"]>>;
      try {
        read = await reader.read(message.source, { report: true });
      } catch (error) {
        // Reading it again would fail the same way (a poison message): out of the way, for good.
        if (!(error instanceof UnreadableMessage)) throw error;
        deps.count?.("unparsed");
        deps.log.warn({ uid, err: error }, "bounce mailbox: message could not be read, moved to Unparsed");
        await imap.messageMove(String(uid), unparsed, { uid: true });
        continue;
      }
      // A database failure throws here and leaves the message where it is, for the next pass.
      const outcome = await applyParsedReport(
        deps.report,
        message.source,
        read.bounce ?? { type: "none", recipients: [] },
      );
      deps.count?.(outcome.result);
      if (outcome.result === "ignored")
        deps.log.info({ uid, why: outcome.why }, "bounce mailbox: report not applied");
      if (outcome.result === "unparsed")
        deps.log.warn({ uid }, "bounce mailbox: not a report, moved to Unparsed");
      await imap.messageMove(String(uid), outcome.result === "unparsed" ? unparsed : processed, {
        uid: true,
      });
    }
  }

  async function session(): Promise<void> {
    const imap = new ImapFlow({
      host: target.host,
      port: target.port,
      secure: target.secure,
      auth: { user: target.user, pass: target.password },
      logger: false,
      // IDLE (or NOOP polling where the server has none) one second after a pass, not imapflow's
      // default fifteen: new bounces are read at once.
      autoIdleDelay: 1000,
      // imap:// is for a server on this host or a test: no STARTTLS upgrade is attempted.
      ...(target.secure ? {} : { doSTARTTLS: false }),
    });
    client = imap;
    imap.on("error", (error: Error) => deps.log.warn({ err: error }, "bounce mailbox: connection error"));
    await imap.connect();
    try {
      const processed = (await imap.mailboxCreate([target.mailbox, "Processed"])).path;
      const unparsed = (await imap.mailboxCreate([target.mailbox, "Unparsed"])).path;
      await imap.mailboxOpen(target.mailbox);
      imap.on("exists", () => wake());
      // A lost connection ends the wait at once: the loop reconnects instead of sleeping on.
      imap.on("close", () => wake());
      deps.log.info(
        { host: target.host, mailbox: target.mailbox, idle: imap.capabilities.has("IDLE") },
        "bounce mailbox: reading",
      );
      while (!stopping && imap.usable) {
        const pass = ++started;
        await drain(imap, processed, unparsed);
        passDone(pass);
        if (!stopping) await sleep(pollMs);
      }
    } finally {
      client = undefined;
      await imap.logout().catch(() => imap.close());
    }
  }

  const loop = (async () => {
    while (!stopping) {
      try {
        await session();
      } catch (error) {
        if (stopping) break;
        deps.log.warn({ err: error }, "bounce mailbox: reading failed; reconnecting");
        await sleep(reconnectMs);
      }
    }
    for (const w of waiters.splice(0)) w.resolve();
  })();

  return {
    settled() {
      const after = started;
      return new Promise<void>((resolve) => {
        if (stopping) return resolve();
        waiters.push({ after, resolve });
        wake();
      });
    },
    async close() {
      stopping = true;
      wake();
      // A connection still being opened is cut; a message in hand is finished first.
      if (client && !client.usable) client.close();
      await loop;
      if (!deps.reader) await reader.close();
    },
  };
}
