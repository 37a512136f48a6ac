import { createTransport, type Transporter } from "nodemailer";

/**
 * The one SMTP door. Messages arrive fully built (raw MIME), so the pool only moves bytes.
 * `maxRequeues: 0`: nodemailer's pool would otherwise re-send a message on another connection
 * when one dies mid-transaction, a duplicate we could not count.
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
  /** Connections in the pool (SMTP_POOL). */
  pool: number;
  /** Optional DKIM signing. */
  dkim?: { domainName: string; keySelector: string; privateKey: string; headerFieldNames?: string };
  socketTimeoutMs?: number;
}

export function createMailer(options: MailerOptions): Mailer {
  // One options object with `url` in it: createTransport's second argument holds *message*
  // defaults, so pool, timeouts and maxRequeues given there were silently ignored (a new connection
  // per message, nodemailer's 10-minute socket timeout). Options in the URL's query string
  // (`smtp://host:587/?socketTimeout=30000`) win over these.
  const transport: Transporter = createTransport({
    url: options.smtpUrl,
    pool: true,
    maxConnections: options.pool,
    maxMessages: 10_000,
    maxRequeues: 0,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    greetingTimeout: 30_000,
    connectionTimeout: 30_000,
    dkim: options.dkim,
  } as Parameters<typeof createTransport>[0]);
  return {
    async sendRaw(envelope, raw) {
      const info: { response?: unknown; accepted?: unknown[]; rejected?: unknown[] } =
        await transport.sendMail({
          envelope: { from: envelope.from, to: envelope.to },
          raw,
        });
      return {
        response: String(info.response ?? ""),
        accepted: (info.accepted ?? []).map(String),
        rejected: (info.rejected ?? []).map(String),
      };
    },
    close: () => transport.close(),
  };
}
