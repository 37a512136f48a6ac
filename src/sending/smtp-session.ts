import { isIP, connect as netConnect, type Socket } from "node:net";
import { hostname } from "node:os";
import { checkServerIdentity, type ConnectionOptions as TlsOptions, connect as tlsConnect } from "node:tls";
import { dataBytes } from "./smtp-data.js";

/**
 * One SMTP client session (RFC 5321), kept open for many messages. It does only what sending our
 * own prebuilt messages needs: EHLO, STARTTLS when offered, AUTH PLAIN/LOGIN, and per message
 * MAIL/RCPT/DATA (sent as one PIPELINING round trip when the server offers it, RFC 2920), the
 * bytes written as they are (dot-stuffed only where a line starts with a dot), RSET after a
 * refusal. Errors carry what nodemailer's do (`code`, `responseCode`, `response`, `command`,
 * `rejectedErrors`), so the classification does not care which client sent the message.
 */
export interface SessionOptions {
  host: string;
  port: number;
  /** TLS from the first byte (smtps, port 465). */
  secure?: boolean;
  ignoreTLS?: boolean;
  requireTLS?: boolean;
  tls?: TlsOptions;
  auth?: { user: string; pass: string };
  /** Our name in EHLO. */
  name?: string;
  connectionTimeout: number;
  greetingTimeout: number;
  /** Longest wait for any one answer. */
  socketTimeout: number;
}

export interface SessionResult {
  response: string;
  accepted: string[];
  rejected: string[];
}

/**
 * Set on an error that happened before any byte of the message was written (opening the session,
 * or MAIL/RCPT/DATA): such a failure can never have left a copy at the server.
 */
export const beforeMessage = Symbol("smtp error before any message byte");

export interface SmtpError extends Error {
  code: string;
  responseCode?: number;
  response?: string;
  command?: string;
  rejectedErrors?: SmtpError[];
}

function smtpError(message: string, code: string, answer?: string, command?: string): SmtpError {
  const error = new Error(answer ? `${message}: ${answer}` : message) as SmtpError;
  error.code = code;
  if (answer) {
    error.response = answer;
    error.responseCode = Number(answer.slice(0, 3));
  }
  if (command) error.command = command;
  return error;
}

export class SmtpSession {
  /** The connection is gone (closed, failed or timed out): open a new session. */
  ended = false;
  private socket: Socket;
  private buffered = "";
  private lines: string[] = [];
  /** Characters read and not yet handed to a waiter (`buffered` and `lines`). */
  private held = 0;
  private waiting: { resolve: (answer: string) => void; reject: (error: Error) => void }[] = [];
  private failure: SmtpError | undefined;
  private extensions = new Set<string>();
  private authMethods: string[] = [];
  private upgraded = false;

  private constructor(
    socket: Socket,
    private readonly options: SessionOptions,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  /** TLS protects the session (smtps, or STARTTLS done): what `digest doctor` reports. */
  get secured(): boolean {
    return this.options.secure === true || this.upgraded;
  }

  /** The AUTH mechanisms the server offered in its last EHLO answer. */
  get authMechanisms(): readonly string[] {
    return this.authMethods;
  }

  /** Connects, reads the greeting, says EHLO, upgrades to TLS when offered, and logs in. */
  static async open(options: SessionOptions): Promise<SmtpSession> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const connected = options.secure
        ? tlsConnect({ ...tlsTarget(options), host: options.host, port: options.port })
        : netConnect({ host: options.host, port: options.port });
      const timer = setTimeout(() => {
        connected.destroy();
        reject(smtpError("connection timed out", "ETIMEDOUT"));
      }, options.connectionTimeout);
      connected.once(options.secure ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        connected.removeAllListeners("error");
        resolve(connected);
      });
      connected.once("error", (error) => {
        clearTimeout(timer);
        const code = isTlsFailure(error) ? "ETLS" : "ECONNECTION";
        reject(Object.assign(smtpError(error.message, code), { cause: error }));
      });
    });
    const session = new SmtpSession(socket, options);
    try {
      await session.handshake();
    } catch (error) {
      session.close();
      throw error;
    }
    return session;
  }

  private async handshake(): Promise<void> {
    const greeting = await this.answer(this.options.greetingTimeout);
    if (!greeting.startsWith("220"))
      throw smtpError("the server refused the session", "EPROTOCOL", greeting, "CONN");
    await this.hello();
    if (!this.options.secure && !this.options.ignoreTLS && this.extensions.has("STARTTLS")) {
      const ready = await this.command("STARTTLS");
      if (!ready.startsWith("220")) throw smtpError("STARTTLS failed", "ETLS", ready, "STARTTLS");
      await this.upgrade();
      await this.hello();
    } else if (this.options.requireTLS && !this.options.secure) {
      throw smtpError("the server does not offer STARTTLS", "ETLS", undefined, "EHLO");
    }
    if (this.options.auth && this.authMethods.length > 0) await this.login(this.options.auth);
  }

  private async hello(): Promise<void> {
    const name = (this.options.name ?? hostname()).replace(/[\r\n\s]/g, "") || "localhost";
    let answer = await this.command(`EHLO ${name}`);
    if (!answer.startsWith("250")) {
      answer = await this.command(`HELO ${name}`);
      if (!answer.startsWith("250"))
        throw smtpError("the server refused EHLO and HELO", "EPROTOCOL", answer, "EHLO");
    }
    this.extensions.clear();
    this.authMethods = [];
    for (const line of answer.split("\r\n").slice(1)) {
      const words = line.slice(4).trim().toUpperCase().split(/\s+/);
      if (words[0]) this.extensions.add(words[0]);
      if (words[0] === "AUTH") this.authMethods = words.slice(1);
    }
  }

  private async upgrade(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("error");
    plain.removeAllListeners("close");
    plain.removeAllListeners("timeout");
    this.socket = await new Promise<Socket>((resolve, reject) => {
      const secured = tlsConnect({ ...tlsTarget(this.options), socket: plain }, () => resolve(secured));
      secured.once("error", (error) =>
        reject(Object.assign(smtpError(error.message, "ETLS"), { cause: error })),
      );
    });
    this.socket.removeAllListeners("error");
    this.upgraded = true;
    this.attach(this.socket);
  }

  private async login(auth: { user: string; pass: string }): Promise<void> {
    let answer: string;
    if (this.authMethods.includes("PLAIN") || !this.authMethods.includes("LOGIN")) {
      answer = await this.command(
        `AUTH PLAIN ${Buffer.from(`\0${auth.user}\0${auth.pass}`).toString("base64")}`,
      );
    } else {
      await this.command("AUTH LOGIN");
      await this.command(Buffer.from(auth.user).toString("base64"));
      answer = await this.command(Buffer.from(auth.pass).toString("base64"));
    }
    if (!answer.startsWith("235")) throw smtpError("authentication failed", "EAUTH", answer, "AUTH");
  }

  /**
   * One message to its recipients; resolves with the server's answer to the final dot. `prefix`
   * (DKIM-Signature fields) goes in front of the message as it is: CRLF lines, none starting with a dot.
   */
  async send(
    envelope: { from: string; to: string[] },
    message: Buffer,
    dataReady = false,
    prefix?: Buffer,
  ): Promise<SessionResult> {
    let accepted: string[];
    let rejected: string[];
    try {
      ({ accepted, rejected } = await this.envelope(envelope));
    } catch (error) {
      // Not a byte of the message was written: whatever happened, the server cannot hold a copy.
      throw Object.assign(error as object, { [beforeMessage]: true });
    }
    // The message and the end-of-data dot leave in one writev: a second small write would be a
    // second TCP segment, and a second wake-up of the server.
    this.socket.cork();
    try {
      if (prefix) this.write(prefix);
      for (const chunk of dataBytes(message, dataReady)) this.write(chunk);
    } finally {
      this.socket.uncork();
    }
    const final = await this.answer(this.options.socketTimeout);
    if (!final.startsWith("2")) throw smtpError("message refused", "EMESSAGE", final, "DATA");
    return { response: final, accepted, rejected };
  }

  /** MAIL, RCPT and DATA; resolves once the server is ready for the message (354). */
  private async envelope(envelope: {
    from: string;
    to: string[];
  }): Promise<{ accepted: string[]; rejected: string[] }> {
    const commands = [`MAIL FROM:<${envelope.from}>`, ...envelope.to.map((to) => `RCPT TO:<${to}>`), "DATA"];
    for (const c of commands)
      if (/[\r\n]/.test(c)) throw smtpError("an address cannot be carried", "EENVELOPE");
    let answers: string[];
    if (this.extensions.has("PIPELINING")) {
      this.write(`${commands.join("\r\n")}\r\n`);
      answers = await Promise.all(commands.map(() => this.answer(this.options.socketTimeout)));
    } else {
      answers = [];
      for (const [i, c] of commands.entries()) {
        const answer = await this.command(c);
        answers.push(answer);
        // Without pipelining, a refused MAIL or a refusal of every recipient ends the attempt here.
        if (!answer.startsWith("2") && (i === 0 || (i === commands.length - 2 && !answers.slice(1).some(ok))))
          break;
      }
    }
    const [mail = "", ...rest] = answers;
    const rcpts = rest.slice(0, envelope.to.length);
    const accepted = envelope.to.filter((_, i) => ok(rcpts[i]));
    const rejected = envelope.to.filter((_, i) => !ok(rcpts[i]));
    const data = rest[envelope.to.length];
    // A server that opens DATA with no recipient (or after a refused MAIL) breaks RFC 2920; the
    // session is not trusted with another message.
    if (data?.startsWith("354") && (accepted.length === 0 || !mail.startsWith("2"))) this.close();
    if (!mail.startsWith("2")) throw smtpError("MAIL FROM refused", "EENVELOPE", mail, "MAIL FROM");
    if (accepted.length === 0) {
      const error = smtpError("every recipient was refused", "EENVELOPE", rcpts[0], "RCPT TO");
      error.rejectedErrors = rcpts.map((answer) =>
        smtpError("recipient refused", "EENVELOPE", answer, "RCPT TO"),
      );
      throw error;
    }
    if (!data?.startsWith("354")) throw smtpError("DATA refused", "EENVELOPE", data, "DATA");
    return { accepted, rejected };
  }

  /** After a refusal: the session can carry the next message. */
  async reset(): Promise<void> {
    const answer = await this.command("RSET");
    if (!answer.startsWith("250")) throw smtpError("RSET refused", "EPROTOCOL", answer, "RSET");
  }

  quit(): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.end("QUIT\r\n");
    this.socket.destroySoon?.();
  }

  close(): void {
    this.ended = true;
    this.socket.destroy();
  }

  private attach(socket: Socket): void {
    // Commands are small writes answered one by one: Nagle's algorithm would hold each back for
    // the server's delayed ACK (about 40 ms a message).
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.read(chunk.toString("latin1")));
    socket.on("error", (error) =>
      this.fail(Object.assign(smtpError(error.message, "ECONNECTION"), { cause: error })),
    );
    socket.on("close", () => this.fail(smtpError("connection closed unexpectedly", "ECONNECTION")));
  }

  private write(data: string | Buffer): void {
    if (this.failure) throw this.failure;
    this.socket.write(data);
  }

  private command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.answer(this.options.socketTimeout);
  }

  /** The next complete (possibly multi-line) answer, or the session's failure. */
  private answer(timeoutMs: number): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(smtpError("timed out waiting for the server", "ETIMEDOUT"));
        this.socket.destroy();
      }, timeoutMs);
      this.waiting.push({
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.deliverAnswers();
    });
  }

  private read(text: string): void {
    if (this.failure) return;
    this.held += text.length;
    if (this.held > maxHeldAnswer) {
      // A server that talks without end would otherwise fill memory and, rescanned on every chunk,
      // hold the event loop until the answer's time limit (the doctor runs this against any host).
      this.fail(smtpError(`the server's answer is longer than ${maxHeldAnswer / 1024} KiB`, "EPROTOCOL"));
      this.socket.destroy();
      return;
    }
    this.buffered += text;
    let end = this.buffered.indexOf("\r\n");
    while (end !== -1) {
      this.lines.push(this.buffered.slice(0, end));
      this.buffered = this.buffered.slice(end + 2);
      end = this.buffered.indexOf("\r\n");
    }
    this.deliverAnswers();
  }

  /** Hands complete answers ("250-..." lines up to "250 ...") to the waiters, in order. */
  private deliverAnswers(): void {
    for (;;) {
      const last = this.lines.findIndex((line) => !/^\d{3}-/.test(line));
      if (last === -1 || this.waiting.length === 0) return;
      const answer = this.lines.splice(0, last + 1).join("\r\n");
      this.held -= answer.length + 2;
      this.waiting.shift()?.resolve(answer);
    }
  }

  private fail(error: SmtpError): void {
    this.ended = true;
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}

const ok = (answer: string | undefined) => answer?.startsWith("2") ?? false;

/**
 * The most of the server's answers held at once. RFC 5321 §4.5.3.1.5 allows 512 octets a reply
 * line; the longest real answer, EHLO's, is a few dozen lines of them.
 */
const maxHeldAnswer = 64 * 1024;

/**
 * The TLS options for the relay: its name as SNI unless it is an IP address (RFC 6066 §3 allows
 * host names only), and the certificate checked against the host as configured, name or IP,
 * whether TLS starts at once or after STARTTLS (where Node would not know the host otherwise).
 */
function tlsTarget(options: SessionOptions): TlsOptions {
  const host = options.host.replace(/^\[|\]$/g, "");
  return {
    ...options.tls,
    ...(isIP(host) ? {} : { servername: host }),
    checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert),
  };
}

/** A certificate the relay showed could not be trusted, or the TLS handshake itself failed. */
function isTlsFailure(error: Error): boolean {
  const code = (error as { code?: string }).code ?? "";
  return /CERT|^UNABLE_TO_|^INVALID_(?:CA|PURPOSE)|^PATH_LENGTH|HOSTNAME_MISMATCH|^ERR_(?:SSL|TLS|OSSL)_/.test(
    code,
  );
}
