import { SMTPServer } from "smtp-server";
import { afterAll, describe, expect, it } from "vitest";
import { createMailer } from "../../src/sending/mailer.js";
import { dataBytes } from "../../src/sending/smtp-data.js";
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
