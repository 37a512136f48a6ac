import DKIM from "nodemailer/lib/dkim";
import { parseConnectionUrl } from "nodemailer/lib/shared";
import SMTPConnection from "nodemailer/lib/smtp-connection";

/**
 * The one SMTP door: `SMTP_POOL` kept sessions over nodemailer's SMTPConnection, fed prebuilt raw
 * messages (no per-message MailComposer, no message object: the bytes go straight to DATA).
 * A message is tried once on one session and never handed to another when its session dies:
 * that would be a second copy we could not count (what `maxRequeues: 0` meant for the pool).
 */
export interface Envelope {
  from: string;
  to: string[];
}

export interface SmtpResult {
  /** The server's final answer, e.g. "250 2.0.0 Ok: queued as 123". */
  response: string;
  accepted: string[];
  rejected: string[];
}

export interface Mailer {
  sendRaw(envelope: Envelope, raw: Buffer | string): Promise<SmtpResult>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl: string;
  /** Connections kept open (SMTP_POOL). */
  pool: number;
  /** Optional DKIM signing. */
  dkim?: { domainName: string; keySelector: string; privateKey: string; headerFieldNames?: string };
  socketTimeoutMs?: number;
}

/**
 * Set on an error that happened while opening a session, before any message was written: such a
 * failure can never have left a copy at the server.
 */
export const beforeMessage = Symbol("smtp error before any message");

interface Pending {
  envelope: Envelope;
  raw: Buffer | string;
  resolve: (result: SmtpResult) => void;
  reject: (error: unknown) => void;
}

interface Session {
  connection?: SMTPConnection;
  /** The server or the network ended this connection: the next message opens a new one. */
  ended: boolean;
  busy: boolean;
}

type ConnectionOptions = SMTPConnection.Options & { auth?: { user: string; pass: string } };

export function createMailer(options: MailerOptions): Mailer {
  // Options in the URL's query string (`smtp://host:587/?socketTimeout=30000`) win over these.
  const { auth, ...fromUrl } = parseConnectionUrl(options.smtpUrl) as ConnectionOptions;
  const connectionOptions: SMTPConnection.Options = {
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    greetingTimeout: 30_000,
    connectionTimeout: 30_000,
    ...fromUrl,
  };
  const signer = options.dkim ? new DKIM(options.dkim) : undefined;
  const sessions: Session[] = Array.from({ length: Math.max(1, options.pool) }, () => ({
    ended: true,
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
    if (closed)
      throw Object.assign(new Error("the mailer is closed"), { code: "ECONNECTION", [beforeMessage]: true });
    if (!session.connection || session.ended) session.connection = await open(session);
    const connection = session.connection;
    const body = signer ? signer.sign(message.raw) : message.raw;
    return new Promise<SmtpResult>((resolve, reject) => {
      connection.send({ from: message.envelope.from, to: message.envelope.to }, body, (error, info) => {
        if (!error && info) {
          resolve({
            response: String(info.response ?? ""),
            accepted: (info.accepted ?? []).map(String),
            rejected: (info.rejected ?? []).map(String),
          });
          return;
        }
        const refused = error as { code?: string; responseCode?: number };
        // The server refused this message and the session is fine: RSET and keep it. Anything
        // else (a lost or timed-out connection, 421) ends the session.
        if (
          (refused.code === "EENVELOPE" || refused.code === "EMESSAGE") &&
          refused.responseCode !== 421 &&
          !session.ended
        ) {
          connection.reset((resetError) => {
            if (resetError) end(session);
            reject(error);
          });
          return;
        }
        end(session);
        reject(error);
      });
    });
  }

  function end(session: Session) {
    session.ended = true;
    session.connection?.close();
  }

  /** Connects (greeting, EHLO, STARTTLS when offered, AUTH when the URL has credentials). */
  function open(session: Session): Promise<SMTPConnection> {
    return new Promise((resolve, reject) => {
      const connection = new SMTPConnection(connectionOptions);
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        connection.close();
        reject(Object.assign(error as object, { [beforeMessage]: true }));
      };
      // After the session is up, errors reach the send callback; this keeps them from being unhandled.
      connection.on("error", fail);
      connection.once("end", () => {
        if (session.connection === connection) session.ended = true;
        fail(
          Object.assign(new Error("connection closed while opening the session"), { code: "ECONNECTION" }),
        );
      });
      connection.connect((error) => {
        if (error) return fail(error);
        const ready = () => {
          if (settled) return;
          settled = true;
          session.ended = false;
          resolve(connection);
        };
        // As nodemailer's transports do: credentials are used only where the server offers AUTH.
        if (!auth || !connection.allowsAuth) return ready();
        connection.login(auth, (loginError) => (loginError ? fail(loginError) : ready()));
      });
    });
  }

  return {
    sendRaw(envelope, raw) {
      return new Promise<SmtpResult>((resolve, reject) => {
        waiting.push({ envelope, raw, resolve, reject });
        pump();
      });
    },
    close() {
      closed = true;
      for (const message of waiting.splice(0))
        message.reject(
          Object.assign(new Error("the mailer is closed"), { code: "ECONNECTION", [beforeMessage]: true }),
        );
      for (const session of sessions) {
        if (session.connection && !session.ended) session.connection.quit();
        session.ended = true;
      }
    },
  };
}
