import { createServer, type Socket } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, describe, expect, it } from "vitest";
import { createMailer } from "../../src/sending/mailer.js";
import { dataBytes } from "../../src/sending/smtp-data.js";
import { SmtpSession } from "../../src/sending/smtp-session.js";
import { startSmtpCapture } from "../helpers/smtp.js";

/** Our SMTP client against a real smtp-server: what arrives is exactly what we built. */
const envelope = { from: "bounces@example.org", to: ["reader@session.test"] };
const closers: (() => Promise<unknown>)[] = [];
afterAll(() => Promise.all(closers.map((close) => close())));

describe("the DATA bytes", () => {
  it("are the message itself when it is clean CRLF text with no line starting with a dot", () => {
    const message = Buffer.from("Subject: a\r\n\r\nhello\r\n");
    const [body, end] = dataBytes(message);
    expect(body).toBe(message);
    expect(end?.toString()).toBe(".\r\n");
  });

  it("double a dot that starts a line and turn bare CR and LF into CRLF", () => {
    const [body, end] = dataBytes(Buffer.from(".a\r\n.\r\nb\nc\r.d"));
    expect(body?.toString()).toBe("..a\r\n..\r\nb\r\nc\r\n..d");
    expect(end?.toString()).toBe("\r\n.\r\n");
  });
});

describe("a message sent over a session", () => {
  it("arrives byte for byte, dots and all", async () => {
    const smtp = await startSmtpCapture();
    closers.push(() => smtp.close());
    const mailer = createMailer({ smtpUrl: smtp.url, pool: 1 });
    const raw = "Subject: dots\r\n\r\n.starts with a dot\r\n..two\r\n.\r\nlast line\r\n";
    await mailer.sendRaw(envelope, raw);
    mailer.close();
    expect(smtp.messages[0]?.raw.toString()).toBe(raw);
  });

  it("logs in with the credentials in SMTP_URL, and works without PIPELINING too", async () => {
    const logins: string[] = [];
    const received: string[] = [];
    const server = new SMTPServer({
      authMethods: ["PLAIN", "LOGIN"],
      allowInsecureAuth: true,
      disabledCommands: ["STARTTLS"],
      hidePIPELINING: true,
      logger: false,
      onAuth(auth, _session, callback) {
        logins.push(`${auth.username}:${auth.password}`);
        callback(null, { user: auth.username });
      },
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          received.push(Buffer.concat(chunks).toString());
          callback(null, "2.0.0 Ok: queued as AUTH12345");
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.server.address() as { port: number }).port;
    const mailer = createMailer({ smtpUrl: `smtp://digest:s3cret%40x@127.0.0.1:${port}`, pool: 1 });
    const result = await mailer.sendRaw(envelope, "Subject: hi\r\n\r\nhello\r\n");
    await mailer.sendRaw(envelope, "Subject: again\r\n\r\nhello\r\n");
    mailer.close();
    expect(logins).toEqual(["digest:s3cret@x"]);
    expect(received).toHaveLength(2);
    expect(result.response).toBe("250 2.0.0 Ok: queued as AUTH12345");
  });

  it("upgrades to TLS when the server offers STARTTLS", async () => {
    const secure: boolean[] = [];
    // smtp-server's built-in test certificate: self-signed, so certificate checks are off
    // (SMTP_TLS=insecure; the URL may no longer say so).
    const server = new SMTPServer({
      authOptional: true,
      logger: false,
      onData(stream, session, callback) {
        stream.resume();
        stream.on("end", () => {
          secure.push(session.secure);
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.server.address() as { port: number }).port;
    const mailer = createMailer({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      pool: 1,
      tls: { mode: "insecure" },
    });
    await mailer.sendRaw(envelope, "Subject: tls\r\n\r\nhello\r\n");
    mailer.close();
    expect(secure).toEqual([true]);
  });
});

describe("a server that answers without end", () => {
  /** A server that greets, then answers EHLO with `flood` and never finishes the answer. */
  async function floodingServer(flood: (socket: Socket) => void): Promise<number> {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.write("220 flood.test ESMTP\r\n");
      socket.once("data", () => flood(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    );
    return (server.address() as { port: number }).port;
  }

  const open = (port: number) =>
    SmtpSession.open({
      host: "127.0.0.1",
      port,
      ignoreTLS: true,
      connectionTimeout: 2000,
      greetingTimeout: 2000,
      socketTimeout: 3000,
    }).then(
      () => undefined,
      (error: { code?: string; message?: string }) => error,
    );

  it("is cut off as a protocol error once one line passes 64 KiB, without waiting for the time limit", async () => {
    const port = await floodingServer((socket) => socket.write(`250-${"x".repeat(1024 * 1024)}`));
    const error = await open(port);
    expect(error?.code).toBe("EPROTOCOL");
    expect(error?.message).toMatch(/longer than 64 KiB/);
  });

  it("is cut off as a protocol error once its continued lines pass 64 KiB", async () => {
    const port = await floodingServer((socket) => socket.write("250-PIPELINING\r\n".repeat(20_000)));
    const error = await open(port);
    expect(error?.code).toBe("EPROTOCOL");
  });
});
