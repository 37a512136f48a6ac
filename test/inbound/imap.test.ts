import { sql } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PARSED_BYTES } from "../../src/bounces/parse.js";
import { type BounceMailbox, parseImapUrl, startBounceMailbox } from "../../src/inbound/imap.js";
import { applyMailedReport, type MailedReportOutcome } from "../../src/inbound/mailed-report.js";
import { startReadPool } from "../../src/inbound/read-pool.js";
import { signDeliveryToken } from "../../src/subscribers/tokens.js";
import { createTestDatabase } from "../helpers/db.js";
import { type PrivateDovecot, startDovecot, withImap } from "../helpers/dovecot.js";
import { identity, type Pipeline, reportDeps, secret, softBounces, waitUntil } from "../sending/harness.js";
import { type Relay, sendThroughRelay, startRelay, statusOf } from "../webhooks/relay.js";
import { measuringReader } from "./measuring-reader.js";

/**
 * The bounce mailbox (BOUNCE_IMAP_URL) against a real Dovecot: a relay that rewrites the return path
 * delivers bounces there; each is applied like inbound mail, then moved to Processed (or Unparsed).
 */
const database = await createTestDatabase();
const report = reportDeps(database);
let dovecot: PrivateDovecot;
let relay: Relay;
let pipe: Pipeline;
const counted: MailedReportOutcome["result"][] = [];
const running: BounceMailbox[] = [];

const reader = (i: number) => `r${i}@readers.test`;
const ourId = (i: number) => relay.messageIdOf.get(reader(i)) ?? "";

function start(url = dovecot.url(), pollSeconds = 60): BounceMailbox {
  const mailbox = startBounceMailbox(
    { report, log: pino({ level: "silent" }), count: (r) => counted.push(r) },
    url,
    { pollSeconds, reconnectSeconds: 1 },
  );
  running.push(mailbox);
  return mailbox;
}

const deliver = (raw: string, server = dovecot) =>
  withImap(server, (imap) => imap.append("INBOX", raw).then(() => {}));

async function counts(server = dovecot) {
  return withImap(server, async (imap) => {
    const n = async (path: string) => {
      const boxes = await imap.list();
      if (!boxes.some((b) => b.path === path)) return 0;
      const status = await imap.status(path, { messages: true });
      return status ? (status.messages ?? 0) : 0;
    };
    return {
      inbox: await n("INBOX"),
      processed: await n("INBOX/Processed"),
      unparsed: await n("INBOX/Unparsed"),
    };
  });
}

let serial = 0;
/** A DSN (RFC 3464) as a relay mails it to our mailbox, quoting the headers of our message. */
function dsn(
  i: number,
  options: { status?: string; diagnostic?: string; messageId?: string; deliveredTo?: string } = {},
) {
  const boundary = `b${++serial}`;
  return [
    ...(options.deliveredTo ? [`Delivered-To: ${options.deliveredTo}`] : []),
    "From: MAILER-DAEMON@relay.example.net",
    `To: bounces@${identity.domain}`,
    `Subject: Undelivered Mail Returned to Sender`,
    `Message-ID: <dsn-${serial}-${Date.now()}@relay.example.net>`,
    "Date: Mon, 30 Nov 2026 07:00:00 +0000",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain",
    "",
    "This is the mail system at host relay.example.net. I'm sorry to have to inform you that your message could not be delivered.",
    "",
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; relay.example.net",
    "",
    `Final-Recipient: rfc822; ${reader(i)}`,
    "Action: failed",
    `Status: ${options.status ?? "5.1.1"}`,
    `Diagnostic-Code: smtp; ${options.diagnostic ?? "550 5.1.1 <user>: Recipient address rejected: User unknown in virtual mailbox table"}`,
    "",
    `--${boundary}`,
    "Content-Type: text/rfc822-headers",
    "",
    "From: Alliance Digest <news@example.org>",
    `To: ${reader(i)}`,
    "Subject: Vol 2.6",
    ...(options.messageId === "" ? [] : [`Message-ID: ${options.messageId ?? ourId(i)}`]),
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

async function deliveryIdOf(email: string): Promise<number> {
  const [row] = await database.query<{ id: number }>(
    sql`select d.id::float8 as id from deliveries d join subscribers s on s.id = d.subscriber_id where s.email = ${email}`,
  );
  return row?.id ?? 0;
}

beforeAll(async () => {
  // The mailbox server and the send through the relay need nothing of each other.
  [dovecot, pipe] = await Promise.all([
    startDovecot(),
    startRelay().then((started) => {
      relay = started;
      return sendThroughRelay(database, relay, 20);
    }),
  ]);
}, 60_000);
afterAll(async () => {
  for (const m of running) await m.close();
  await pipe?.close();
  await relay?.close();
  await dovecot?.stop();
});

describe("BOUNCE_IMAP_URL", () => {
  it("reads user, password, host, port and mailbox from the URL", () => {
    expect(parseImapUrl("imaps://bounce%40x:p%40ss@mail.example.net/Bounces")).toMatchObject({
      host: "mail.example.net",
      port: 993,
      secure: true,
      user: "bounce@x",
      password: "p@ss",
      mailbox: "Bounces",
    });
  });
});

describe("the bounce mailbox", () => {
  it("a bounce quoting our Message-ID suppresses the reader and ends up in Processed", async () => {
    await deliver(dsn(0));
    const mailbox = start();
    await waitUntil(async () => (await statusOf(database, reader(0))) === "bounced", 10_000, "r0 bounced");
    await mailbox.settled();
    expect(await counts()).toEqual({ inbox: 0, processed: 1, unparsed: 0 });
    const [row] = await database.query<{ source: string }>(sql`select source from bounces`);
    expect(row?.source).toBe("mailbox");
  });

  it("mail arriving while the reader waits is read at once (IDLE), proven by its VERP Delivered-To", async () => {
    const token = signDeliveryToken(secret, await deliveryIdOf(reader(1)));
    await deliver(dsn(1, { messageId: "", deliveredTo: `bounces+${token}@${identity.domain}` }));
    // The reader polls every 60 s: only the server's IDLE news makes this quick.
    await waitUntil(async () => (await statusOf(database, reader(1))) === "bounced", 5_000, "r1 bounced");
  });

  it("a garbage message ends up in Unparsed, counted; a report without proof is moved but changes nothing", async () => {
    await deliver("From: someone@example.net\r\nSubject: hello\r\n\r\nnot a bounce at all\r\n");
    await deliver(dsn(2, { messageId: "<forged.1.00000000000000000000@example.org>" }));
    await running[0]?.settled();
    await waitUntil(async () => (await counts()).inbox === 0, 5_000, "the inbox emptied");
    expect(await counts()).toEqual({ inbox: 0, processed: 3, unparsed: 1 });
    expect(counted).toContain("unparsed");
    expect(await statusOf(database, reader(2))).toBe("active");
  });

  it("stopping mid-poll and starting again loses nothing and applies nothing twice", async () => {
    await running.shift()?.close();
    // Soft bounces: each reader's count shows how often a report was applied.
    await Promise.all(
      Array.from({ length: 12 }, (_, k) =>
        deliver(dsn(k + 3, { status: "5.2.2", diagnostic: "552 5.2.2 Mailbox full" })),
      ),
    );
    const first = start();
    await waitUntil(
      async () =>
        ((
          await database.query<{ n: number }>(
            sql`select count(*)::int as n from bounces where reason = 'mailbox_full'`,
          )
        )[0]?.n ?? 0) >= 3,
      10_000,
      "a few applied",
    );
    await first.close();
    const left = (await counts()).inbox;
    expect(left).toBeGreaterThan(0);
    // A reader killed between applying a report and moving it: the report is applied, still in the inbox.
    await withImap(dovecot, async (imap) => {
      await imap.mailboxOpen("INBOX");
      const [uid] = (await imap.search({ all: true }, { uid: true })) || [];
      const message = await imap.fetchOne(String(uid), { source: true }, { uid: true });
      if (message === false || !message.source) throw new Error("no message left");
      expect((await applyMailedReport(report, message.source)).result).toBe("applied");
    });
    const second = start();
    await waitUntil(async () => (await counts()).inbox === 0, 10_000, "the inbox emptied");
    await second.settled();
    expect((await counts()).processed).toBe(3 + 12);
    const softs = await database.query<{ email: string; soft_bounces: number }>(
      sql`select * from (select email, ${softBounces} as soft_bounces from subscribers) s
        where soft_bounces > 0 order by email`,
    );
    expect(softs.map((s) => s.soft_bounces)).toEqual(Array(12).fill(1));
    const [n] = await database.query<{ n: number }>(
      sql`select count(*)::int as n from bounces where reason = 'mailbox_full'`,
    );
    expect(n?.n).toBe(12);
  });

  it("polls a server without IDLE", async () => {
    const plain = await startDovecot({ withoutIdle: true });
    try {
      start(plain.url(), 1);
      await deliver(dsn(15), plain);
      await waitUntil(
        async () => (await statusOf(database, reader(15))) === "bounced",
        10_000,
        "r15 bounced",
      );
      await waitUntil(async () => (await counts(plain)).processed === 1, 5_000, "moved");
    } finally {
      await running.pop()?.close();
      await plain.stop();
    }
  });
});

describe("a report whose words Postgres cannot store as they are", () => {
  it("is applied and moved to Processed, the NUL in its diagnostic left out, not read again and again", async () => {
    const server = await startDovecot();
    const mailbox = startBounceMailbox({ report, log: pino({ level: "silent" }) }, server.url(), {
      reconnectSeconds: 1,
    });
    try {
      // The delivery-status part in base64, so the NUL survives the message's own clean-up; the
      // report's Message-ID carries a raw NUL byte too.
      const status = Buffer.from(
        `Reporting-MTA: dns; relay.example.net\r\n\r\nFinal-Recipient: rfc822; ${reader(19)}\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such\u0000user\r\n`,
      ).toString("base64");
      await deliver(
        [
          "From: MAILER-DAEMON@relay.example.net",
          `To: bounces@${identity.domain}`,
          "Subject: Undelivered Mail Returned to Sender",
          "Message-ID: <nul\u0000report@relay.example.net>",
          'Content-Type: multipart/report; report-type=delivery-status; boundary="n"',
          "",
          "--n",
          "Content-Type: message/delivery-status",
          "Content-Transfer-Encoding: base64",
          "",
          status,
          "--n",
          "Content-Type: text/rfc822-headers",
          "",
          `To: ${reader(19)}`,
          `Message-ID: ${ourId(19)}`,
          "",
          "--n--",
          "",
        ].join("\r\n"),
        server,
      );
      await waitUntil(
        async () => (await statusOf(database, reader(19))) === "bounced",
        15_000,
        "r19 bounced",
      );
      await mailbox.settled();
      expect(await counts(server)).toEqual({ inbox: 0, processed: 1, unparsed: 0 });
      const [row] = await database.query<{ diagnostic: string }>(
        sql`select b.diagnostic from bounces b join subscribers s on s.id = b.subscriber_id where s.email = ${reader(19)}`,
      );
      expect(row?.diagnostic).toBe("550 5.1.1 no suchuser");
    } finally {
      await mailbox.close();
      await server.stop();
    }
  });
});

describe("a large message in the bounce mailbox", () => {
  it("is fetched only as far as the parser reads (its first 1 MB), and its report is applied", async () => {
    const server = await startDovecot();
    const pool = startReadPool();
    const fetched: number[] = [];
    // The pool, noting how many bytes of each message the mailbox reader fetched and handed over.
    const mailbox = startBounceMailbox(
      { report, log: pino({ level: "silent" }), reader: measuringReader(pool, fetched, true) },
      server.url(),
      {
        reconnectSeconds: 1,
      },
    );
    try {
      // The report, then 4 MB of a returned attachment after its closing boundary.
      await deliver(dsn(18) + `${"y".repeat(998)}\r\n`.repeat(4096), server);
      await waitUntil(
        async () => (await statusOf(database, reader(18))) === "bounced",
        15_000,
        "r18 bounced",
      );
      await mailbox.settled();
      expect(await counts(server)).toEqual({ inbox: 0, processed: 1, unparsed: 0 });
      expect(fetched).toHaveLength(1);
      expect(fetched[0]).toBe(PARSED_BYTES);
    } finally {
      await mailbox.close();
      await pool.close();
      await server.stop();
    }
  });
});

describe("a poison message in the bounce mailbox", () => {
  /** Runs `work` while timing the event loop; answers the longest it went without a turn (ms). */
  async function longestStall(work: () => Promise<void>): Promise<number> {
    let last = performance.now();
    let longest = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 20);
    try {
      await work();
    } finally {
      clearInterval(ticker);
    }
    return Math.max(longest, performance.now() - last);
  }

  // One 150 KB line without an @: the shape that held the old parser for about a minute.
  const poison = [
    "From: someone@elsewhere.example",
    `To: bounces@${identity.domain}`,
    "Subject: Undelivered Mail Returned to Sender",
    "",
    "a".repeat(150 * 1024),
    "",
  ].join("\r\n");

  it("is moved to Unparsed within seconds while the event loop keeps turning, and the report behind it is applied", async () => {
    const server = await startDovecot();
    const seen: MailedReportOutcome["result"][] = [];
    const mailbox = startBounceMailbox(
      { report, log: pino({ level: "silent" }), count: (r) => seen.push(r) },
      server.url(),
      { reconnectSeconds: 1 },
    );
    try {
      await deliver(poison, server);
      await deliver(dsn(16), server);
      const stalled = await longestStall(() =>
        waitUntil(async () => (await statusOf(database, reader(16))) === "bounced", 15_000, "r16 bounced"),
      );
      await mailbox.settled();
      expect(await counts(server)).toEqual({ inbox: 0, processed: 1, unparsed: 1 });
      expect(seen).toEqual(["unparsed", "applied"]);
      expect(stalled).toBeLessThan(1000);
    } finally {
      await mailbox.close();
      await server.stop();
    }
  });

  it("that could not be read in time is moved to Unparsed, logged, and not read again after a restart", async () => {
    const server = await startDovecot();
    const logged: string[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => logged.push(line) });
    const seen: MailedReportOutcome["result"][] = [];
    // A reader given no time at all: every message it reads runs out of it.
    const hurried = startReadPool({ timeLimitMs: 1 });
    const first = startBounceMailbox(
      { report, log, reader: hurried, count: (r) => seen.push(r) },
      server.url(),
      {
        reconnectSeconds: 1,
      },
    );
    try {
      await deliver(dsn(17), server);
      await waitUntil(async () => (await counts(server)).unparsed === 1, 10_000, "moved to Unparsed");
      await first.close();
      expect(seen).toEqual(["unparsed"]);
      expect(logged.join("")).toContain("bounce mailbox: message could not be read, moved to Unparsed");

      const second = startBounceMailbox({ report, log, count: (r) => seen.push(r) }, server.url(), {
        reconnectSeconds: 1,
      });
      await second.settled();
      await second.close();
      expect(seen).toEqual(["unparsed"]);
      expect(await counts(server)).toEqual({ inbox: 0, processed: 0, unparsed: 1 });
      expect(await statusOf(database, reader(17))).toBe("active");
    } finally {
      await first.close();
      await hurried.close();
      await server.stop();
    }
  });
});
