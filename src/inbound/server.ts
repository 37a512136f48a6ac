import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import { PARSED_BYTES } from "../bounces/parse.js";
import { type Limit, memoryRateLimiter } from "../limits.js";
import type { Logger } from "../log.js";
import { handleMessage, type InboundActions, type InboundLimits, RateLimited } from "./handle.js";
import { type MessageReader, startReadPool, UnreadableMessage } from "./read-pool.js";
import { type Recipient, routeRecipient } from "./recipient.js";

export interface InboundServerOptions {
  port: number;
  host?: string;
  domain: string;
  /** Local parts we accept besides the command and VERP addresses (see knownMailboxes). */
  mailboxes: string[];
  secret: string;
  log: Logger;
  actions: InboundActions;
  /** Messages larger than this are refused with 552 while they arrive, before any parsing. */
  maxBytes?: number;
  maxRecipients?: number;
  /** Per-IP and per-sender-domain counters (shared through Redis by `digest serve`); default: in memory. */
  limits?: InboundLimits;
  /**
   * PEM certificate and key for STARTTLS. Without them STARTTLS is not offered at all: smtp-server
   * would otherwise offer it with its bundled key, which is public, so it would protect nothing.
   */
  tls?: { cert: Buffer; key: Buffer };
  /** Reads messages off the event loop; default: a pool of this server's own, closed with it. */
  reader?: MessageReader;
}

/** Default limits: a person mails a command now and then; a mail server's reports come in bursts. */
export const inboundLimits = {
  commands: { limit: 10, windowSeconds: 3600 },
  reports: { limit: 600, windowSeconds: 3600 },
  signed: { limit: 10_000, windowSeconds: 3600 },
} satisfies Record<keyof InboundLimits, Limit>;

export interface InboundServer {
  port: number;
  close(): Promise<void>;
}

type Session = SMTPServerSession & { digestRecipients?: Recipient[] };

const smtpError = (code: number, message: string) =>
  Object.assign(new Error(message), { responseCode: code });

/**
 * The inbound SMTP server: accepts mail only for our own addresses (550 at RCPT for anything else,
 * so it is never a relay), limits size while receiving, and hands each message to handleMessage.
 * When the handler fails (say the database is down) it answers 451 so the sender retries later.
 */
export async function startInboundServer(options: InboundServerOptions): Promise<InboundServer> {
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const maxRecipients = options.maxRecipients ?? 20;
  const { log } = options;
  const limits = options.limits ?? {
    commands: memoryRateLimiter(inboundLimits.commands),
    reports: memoryRateLimiter(inboundLimits.reports),
    signed: memoryRateLimiter(inboundLimits.signed),
  };
  const reader = options.reader ?? startReadPool();
  const tls: Partial<SMTPServerOptions> = options.tls ? { cert: options.tls.cert, key: options.tls.key } : {};
  const server = new SMTPServer({
    name: options.domain,
    banner: "Digest inbound mail",
    size: maxBytes,
    authOptional: true,
    disabledCommands: options.tls ? ["AUTH"] : ["AUTH", "STARTTLS"],
    ...tls,
    logger: false,
    maxClients: 200,
    // A reverse lookup per connection only slows the greeting; nothing here uses the name.
    disableReverseLookup: true,
    socketTimeout: 60_000,
    closeTimeout: 5_000,
    onMailFrom(_address, session: Session, callback) {
      session.digestRecipients = [];
      callback();
    },
    onRcptTo(address, session: Session, callback) {
      const route = routeRecipient(address.address, options.domain, options.mailboxes);
      if (!route) return callback(smtpError(550, "5.1.1 No such mailbox here (this server relays nothing)"));
      const list = session.digestRecipients ?? [];
      session.digestRecipients = list;
      // A repeated recipient is accepted and counted once: the message is handled once for it.
      if (list.some((r) => JSON.stringify(r) === JSON.stringify(route))) return callback();
      if (list.length >= maxRecipients) return callback(smtpError(452, "4.5.3 Too many recipients"));
      list.push(route);
      callback();
    },
    onData(stream, session: Session, callback) {
      // Only the bytes a reader reads are kept (PARSED_BYTES); the rest is counted for the size limit
      // and let go, so 200 clients sending 10 MB each hold 200 MB, not 2 GB.
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on("data", (chunk: Buffer) => {
        if (size < PARSED_BYTES) chunks.push(chunk.subarray(0, PARSED_BYTES - size));
        size += chunk.length;
      });
      stream.on("error", (error) => callback(error));
      stream.on("end", () => {
        if (stream.sizeExceeded || size > maxBytes) {
          log.info({ remote: session.remoteAddress, size }, "inbound: message over the size limit refused");
          return callback(smtpError(552, "5.3.4 Message too big"));
        }
        const mailFrom = session.envelope.mailFrom;
        const message = {
          raw: Buffer.concat(chunks),
          envelopeFrom: mailFrom ? mailFrom.address : "",
          recipients: session.digestRecipients ?? [],
          remoteAddress: session.remoteAddress,
        };
        handleMessage(
          { domain: options.domain, secret: options.secret, log, actions: options.actions, limits, reader },
          message,
        ).then(
          (outcomes) => {
            // Outcomes carry a hash of the sender at most, never an address.
            log.info({ remote: session.remoteAddress, outcomes }, "inbound: message handled");
            callback(null, "2.0.0 Accepted");
          },
          (error) => {
            if (error instanceof RateLimited) {
              return callback(
                smtpError(451, `4.7.1 Too many ${error.what} from you; please try again later`),
              );
            }
            // Reading it again would fail the same way: refused for good, not "try again later".
            if (error instanceof UnreadableMessage) {
              log.warn(
                { err: error, remote: session.remoteAddress, size },
                "inbound: unreadable message refused",
              );
              return callback(smtpError(554, "5.6.0 Message could not be read"));
            }
            log.error(
              { err: error, remote: session.remoteAddress },
              "inbound: handling failed; asking the sender to retry",
            );
            callback(smtpError(451, "4.3.0 Temporary failure, please try again later"));
          },
        );
      });
    },
  });
  server.on("error", (error) => log.warn({ err: error }, "inbound: connection error"));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  log.info({ port }, "inbound SMTP server listening");
  return {
    port,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.reader) await reader.close();
    },
  };
}
