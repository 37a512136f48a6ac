import { isIP } from "node:net";
import { rootCertificates } from "node:tls";
import { parseConnectionUrl } from "nodemailer/lib/shared";
import { smtpUrlTlsOptions } from "../config.js";
import { type DkimOptions, dkimSigner } from "./dkim.js";
import { crlfOnly } from "./smtp-data.js";
import { beforeMessage, type SessionOptions, type SessionResult, SmtpSession } from "./smtp-session.js";
import type { SplicedParts } from "./template.js";

/**
 * The one SMTP door: `SMTP_POOL` kept sessions (smtp-session.ts), fed prebuilt raw messages (no
 * per-message MailComposer, no message object: the bytes go straight to DATA).
 * A message is tried once on one session and never handed to another when its session dies:
 * that would be a second copy we could not count (what `maxRequeues: 0` meant for the pool).
 */
export interface Envelope {
  from: string;
  to: string[];
}

/** `response` is the server's final answer, e.g. "250 2.0.0 Ok: queued as 123". */
export type SmtpResult = SessionResult;

export interface Mailer {
  /** `dataReady`: the bytes have CRLF line ends and no line starting with a dot (template.ts's splice). */
  /** `parts`: what `raw` was spliced from (template.ts), when it is exactly that splice. */
  sendRaw(
    envelope: Envelope,
    raw: Buffer | string,
    options?: { dataReady?: boolean; parts?: SplicedParts },
  ): Promise<SmtpResult>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl: string;
  /** Connections kept open (SMTP_POOL). */
  pool: number;
  /** Optional DKIM signing. */
  dkim?: DkimOptions;
  socketTimeoutMs?: number;
  /**
   * How the relay's certificate is checked (SMTP_TLS, SMTP_CA_FILE): against the system's CAs
   * plus `ca` (PEM) by default; `insecure` skips the check and is the only way to.
   */
  tls?: { mode: "verify" | "insecure"; ca?: string };
}

export { beforeMessage };

interface Pending {
  envelope: Envelope;
  raw: Buffer | string;
  dataReady: boolean;
  parts?: SplicedParts;
  resolve: (result: SmtpResult) => void;
  reject: (error: unknown) => void;
}

/** What a message gets once the mailer is closed: nothing of it was written, so it can go again. */
function closedError(): Error {
  return Object.assign(new Error("the mailer is closed"), { code: "ECONNECTION", [beforeMessage]: true });
}

interface Session {
  /** Opened on first use; once it has ended (server, network, timeout), the next message opens another. */
  connection?: SmtpSession;
  busy: boolean;
}

/**
 * How a session reaches the relay: SMTP_URL with SMTP_TLS and SMTP_CA_FILE applied. The mailer
 * and `digest doctor` share it, so the doctor tests the connection the workers will make.
 */
export function relaySessionOptions(
  options: Pick<MailerOptions, "smtpUrl" | "socketTimeoutMs" | "tls">,
  waitMs = 30_000,
): SessionOptions {
  // The URL may not weaken TLS (config refuses it too): SMTP_TLS and SMTP_CA_FILE are the way.
  const weakening = smtpUrlTlsOptions(options.smtpUrl);
  if (weakening.length > 0)
    throw new Error(`SMTP_URL may not set ${weakening.join(", ")}: use SMTP_TLS or SMTP_CA_FILE`);
  // Options in the URL's query string (`smtp://host:587/?socketTimeout=30000`) win over these.
  const fromUrl = parseConnectionUrl(options.smtpUrl) as Partial<SessionOptions>;
  const ca = options.tls?.ca;
  const host = fromUrl.host ?? "localhost";
  return {
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    greetingTimeout: waitMs,
    connectionTimeout: waitMs,
    ...fromUrl,
    host,
    port: Number(fromUrl.port ?? (fromUrl.secure ? 465 : 587)),
    // Never skip STARTTLS, whatever the query said: nodemailer reads `?ignoreTLS=false&ignoreTLS=false`
    // as a list, and a list is true.
    ignoreTLS: false,
    // A relay that stops offering STARTTLS (or someone on the path who strips it from EHLO) would
    // get the password and every message in clear, with no certificate checked at all: only
    // SMTP_TLS=insecure allows that. A relay on this machine is the exception (no path to strip on).
    requireTLS: fromUrl.requireTLS === true || (options.tls?.mode !== "insecure" && !isLoopbackHost(host)),
    tls: {
      rejectUnauthorized: options.tls?.mode !== "insecure",
      // `ca` replaces Node's bundled list: a private CA comes on top of it, not instead of it.
      ...(ca ? { ca: [...rootCertificates, ca] } : {}),
    },
  };
}

/** localhost, 127.0.0.0/8 or ::1: a relay on this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || (isIP(bare) === 4 && bare.startsWith("127."));
}

export function createMailer(options: MailerOptions): Mailer {
  const connectionOptions = relaySessionOptions(options);
  const sign = options.dkim ? dkimSigner(options.dkim) : undefined;
  const sessions: Session[] = Array.from({ length: Math.max(1, options.pool) }, () => ({
    busy: false,
  }));
  const waiting: Pending[] = [];
  let closed = false;

  const pump = () => {
    for (const session of sessions) {
      if (session.busy) continue;
      const next = waiting.shift();
      if (!next) return;
      session.busy = true;
      deliver(session, next)
        .then(next.resolve, next.reject)
        .finally(() => {
          session.busy = false;
          pump();
        });
    }
  };

  async function deliver(session: Session, message: Pending): Promise<SmtpResult> {
    if (closed) throw closedError();
    if (!session.connection || session.connection.ended) session.connection = await open();
    const connection = session.connection;
    const raw = typeof message.raw === "string" ? Buffer.from(message.raw) : message.raw;
    // Signed as the server will read it: bare CRs and LFs become CRLF on the way (smtp-data.ts).
    const body = sign && !message.dataReady ? crlfOnly(raw) : raw;
    // A message sent as spliced (DATA-ready, so no line end was changed) is hashed from its parts.
    const parts = message.dataReady && body === raw ? message.parts : undefined;
    // Nothing of the message is written if signing fails: a plain retry, never an ambiguous one.
    const signature = sign
      ? await sign(body, parts).catch((error) => {
          throw Object.assign(error as object, { [beforeMessage]: true });
        })
      : undefined;
    try {
      return await connection.send(message.envelope, body, message.dataReady, signature);
    } catch (error) {
      const refused = error as { code?: string; responseCode?: number };
      // The server refused this message and the session is fine: RSET and keep it. Anything
      // else (a lost or timed-out connection, 421) ends the session.
      if (
        (refused.code === "EENVELOPE" || refused.code === "EMESSAGE") &&
        refused.responseCode !== 421 &&
        !connection.ended
      )
        await connection.reset().catch(() => end(session));
      else end(session);
      throw error;
    }
  }

  function end(session: Session) {
    session.connection?.close();
  }

  /** Connects (greeting, EHLO, STARTTLS when offered, AUTH when the URL has credentials). */
  async function open(): Promise<SmtpSession> {
    try {
      return await SmtpSession.open(connectionOptions);
    } catch (error) {
      throw Object.assign(error as object, { [beforeMessage]: true });
    }
  }

  return {
    sendRaw(envelope, raw, options) {
      return new Promise<SmtpResult>((resolve, reject) => {
        waiting.push({
          envelope,
          raw,
          dataReady: options?.dataReady ?? false,
          ...(options?.parts ? { parts: options.parts } : {}),
          resolve,
          reject,
        });
        pump();
      });
    },
    close() {
      closed = true;
      for (const message of waiting.splice(0)) message.reject(closedError());
      for (const session of sessions) session.connection?.quit();
    },
  };
}
