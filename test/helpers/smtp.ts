import { createServer, type Socket } from "node:net";
import { SMTPServer, type SMTPServerAddress } from "smtp-server";

/** One message the capture server accepted. */
export interface CapturedMessage {
  from: string;
  to: string[];
  raw: Buffer;
  receivedAt: number;
  /** The id this server gave the message in its 250 answer ("Ok: queued as <relayId>"). */
  relayId: string;
}

/**
 * What the server answers for one recipient at RCPT, or for the whole message after DATA.
 * `undefined` accepts. Codes are real SMTP answers, e.g. `{ code: 550, message: "5.1.1 No such user" }`.
 */
export type Answer = { code: number; message: string } | undefined;

/**
 * What the server does after the final dot instead of answering at once. `keep` records the message
 * first, as a real server that has already queued it would: the client cannot tell either way.
 * `drop` closes the connection without an answer; `stall` answers 250 only after `ms`.
 */
export type AfterDot = { action: "drop"; keep: boolean } | { action: "stall"; ms: number; keep: boolean };

export interface CaptureOptions {
  /** Called for each new connection; an answer refuses it at the greeting (e.g. 421) and closes it. */
  onConnect?: () => Answer;
  /** Called at RCPT TO for each recipient. */
  onRcpt?: (address: string) => Answer;
  /** Called after the final dot, with the recipients; an answer rejects the whole message. */
  onData?: (recipients: string[], raw: Buffer) => Answer;
  /** Called after the final dot (when onData accepted); a fault instead of the immediate 250. */
  afterDot?: (recipients: string[], raw: Buffer) => AfterDot | undefined;
  port?: number;
}

export interface SmtpCapture {
  port: number;
  url: string;
  messages: CapturedMessage[];
  /** Change the answers while the server runs. */
  options: CaptureOptions;
  /** Resolves when at least n messages were accepted (or rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<CapturedMessage[]>;
  close(): Promise<void>;
}

/**
 * A real SMTP server in this process that records every accepted message and answers 4xx/5xx on
 * command. STARTTLS is off so nodemailer talks plain SMTP on loopback.
 */
export async function startSmtpCapture(options: CaptureOptions = {}): Promise<SmtpCapture> {
  const messages: CapturedMessage[] = [];
  let queued = 0;
  const state: CaptureOptions = { ...options };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    size: 50 * 1024 * 1024,
    // Clients of killed workers may leave connections open; closing must not wait the default 30 s.
    closeTimeout: 1000,
    onConnect(_session, callback) {
      const answer = state.onConnect?.();
      if (!answer) return callback();
      callback(Object.assign(new Error(answer.message), { responseCode: answer.code }));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const answer = state.onRcpt?.(address.address);
      if (!answer) return callback();
      const error = Object.assign(new Error(answer.message), { responseCode: answer.code });
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        const to = session.envelope.rcptTo.map((r) => r.address);
        const answer = state.onData?.(to, raw);
        if (answer) return callback(Object.assign(new Error(answer.message), { responseCode: answer.code }));
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
        const fault = state.afterDot?.(to, raw);
        const relayId = `4Bq${(++queued).toString(36).padStart(6, "0")}Zx`;
        if (!fault || fault.keep) messages.push({ from, to, raw, receivedAt: Date.now(), relayId });
        if (fault?.action === "drop") return dropConnection(session.id);
        if (fault?.action === "stall") {
          setTimeout(() => callback(null, `2.0.0 Ok: queued as ${relayId}`), fault.ms).unref();
          return;
        }
        callback(null, `2.0.0 Ok: queued as ${relayId}`);
      });
    },
  });
  // smtp-server has no public way to cut one session's socket; its connection objects hold it.
  const dropConnection = (sessionId: string) => {
    const connections = (server as unknown as { connections: Set<{ id: string; _socket: Socket }> })
      .connections;
    for (const c of connections) if (c.id === sessionId) c._socket.destroy();
  };
  const port = options.port ?? (await freePort());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  server.on("error", () => {});
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    options: state,
    async waitFor(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} messages, got ${messages.length}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return messages;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
