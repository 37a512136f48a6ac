import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bounce } from "../../src/bounces/bounce.js";
import { PARSED_BYTES } from "../../src/bounces/parse.js";
import type { InboundActions } from "../../src/inbound/handle.js";
import { type MessageReader, startReadPool } from "../../src/inbound/read-pool.js";
import { knownMailboxes } from "../../src/inbound/recipient.js";
import { type InboundServer, startInboundServer } from "../../src/inbound/server.js";
import { silentLogger } from "../../src/log.js";
import { signDeliveryToken, signSubscriberToken } from "../../src/subscribers/tokens.js";
import { repoRoot } from "../helpers/cli.js";
import { measuringReader } from "./measuring-reader.js";
import { plainBounce } from "./plain-bounce.js";

const domain = "digest.example.org";

/** What the server handed over, in order: the policy side is tested with the real database elsewhere. */
const calls: string[] = [];
const actions: InboundActions = {
  async subscribe(email) {
    calls.push(`subscribe ${email}`);
  },
  async unsubscribe(target, meta) {
    calls.push(`unsubscribe ${JSON.stringify(target)} notify=${meta.notify}`);
  },
  async mailUnsubscribeLink(email) {
    calls.push(`unsubscribe-link ${email}`);
  },
  async applyReport(bounce: Bounce, proofs) {
    const verp = proofs.find((p) => p.kind === "verp");
    calls.push(`bounce ${bounce.type} ${verp?.kind === "verp" ? verp.deliveryId : "-"}`);
    return verp?.kind === "verp"
      ? { applied: true, deliveryId: verp.deliveryId, recorded: { suppressed: false } }
      : { applied: false, why: "no proof" };
  },
};

let server: InboundServer;
/**
 * One pool of reading threads for the servers here that read mail: a thread's start (tsx and the
 * parser loaded) is the slow part of a first message, and the pool is only a dependency here.
 */
let reader: MessageReader;
const client = () =>
  createTransport({
    host: "127.0.0.1",
    port: server.port,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 5000,
  });

beforeAll(async () => {
  reader = startReadPool();
  server = await startInboundServer({
    port: 0,
    host: "127.0.0.1",
    domain,
    mailboxes: knownMailboxes(`news@${domain}`, domain),
    secret: "inbound-test-secret-0123456789-0123456789",
    log: silentLogger,
    actions,
    maxBytes: 1024 * 1024,
    reader,
  });
});
afterAll(async () => {
  await server.close();
  await reader.close();
});

/**
 * Talks raw SMTP, for input no well-behaved client would send: one line at a time, each once the
 * server has answered the one before (its greeting first), and the transcript once the last line is
 * answered or the server has closed the connection.
 */
async function rawSession(lines: string[], port = server.port): Promise<string> {
  const socket = new Socket();
  let transcript = "";
  let closed = false;
  let changed = () => {};
  socket.on("data", (d) => {
    transcript += d.toString("latin1");
    changed();
  });
  socket.on("close", () => {
    closed = true;
    changed();
  });
  socket.on("error", () => {});
  // A reply's last line is its code and a space ("250 OK"); the lines before it have a hyphen.
  const answers = () => transcript.match(/^\d{3}(?: |\r?$)/gm)?.length ?? 0;
  /** Resolves once the server has given `n` answers, closed the connection, or stayed silent 5 s. */
  const answered = (n: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      changed = () => {
        if (answers() < n && !closed) return;
        clearTimeout(timer);
        resolve();
      };
      changed();
    });
  await new Promise<void>((resolve) => socket.connect(port, "127.0.0.1", resolve));
  await answered(1);
  for (const [i, line] of lines.entries()) {
    if (closed) break;
    socket.write(line);
    await answered(i + 2);
  }
  socket.destroy();
  return transcript;
}

describe("the inbound SMTP server", () => {
  it("refuses foreign domains and unknown mailboxes at RCPT with 550: it relays nothing", async () => {
    await expect(
      client().sendMail({ from: "a@example.com", to: "victim@gmail.com", subject: "x", text: "x" }),
    ).rejects.toMatchObject({ responseCode: 550 });
    await expect(
      client().sendMail({ from: "a@example.com", to: `nobody@${domain}`, subject: "x", text: "x" }),
    ).rejects.toMatchObject({ responseCode: 550 });
  });

  it("hands a subscribe mail from a person to the subscription side", async () => {
    calls.length = 0;
    await client().sendMail({
      from: "reader@example.com",
      to: `subscribe@${domain}`,
      subject: "hello",
      text: "hi",
    });
    expect(calls).toEqual(["subscribe reader@example.com"]);
  });

  it("does not answer an auto-reply to the subscribe address", async () => {
    calls.length = 0;
    await client().sendMail({
      from: "reader@example.com",
      to: `subscribe@${domain}`,
      subject: "Out of office",
      text: "I am away",
      headers: { "Auto-Submitted": "auto-replied" },
    });
    expect(calls).toEqual([]);
  });

  it("refuses a message over the size limit while it arrives, and keeps serving", async () => {
    // Four times the 1 MB limit: any size over it is refused the same way, and less to send.
    const huge = "x"
      .repeat(76)
      .concat("\r\n")
      .repeat(Math.ceil((4 * 1024 * 1024) / 78));
    await expect(
      client().sendMail({ from: "a@example.com", to: `subscribe@${domain}`, subject: "big", text: huge }),
    ).rejects.toMatchObject({ responseCode: 552 });
    calls.length = 0;
    await client().sendMail({
      from: "next@example.com",
      to: `subscribe@${domain}`,
      subject: "subscribe",
      text: "",
    });
    expect(calls).toEqual(["subscribe next@example.com"]);
  });

  it("ignores binary garbage, broken MIME and a header with NUL without crashing", async () => {
    calls.length = 0;
    const garbage = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919) % 256)).toString("latin1");
    const transcript = await rawSession([
      "EHLO junk.example\r\n",
      "MAIL FROM:<junk@example.com>\r\n",
      `RCPT TO:<news@${domain}>\r\n`,
      "DATA\r\n",
      `Subject: x\0y\r\nContent-Type: multipart/mixed; boundary="nope"\r\n\r\n--nope\r\n${garbage.replace(/\r\n\.\r\n/g, "")}\r\n.\r\n`,
      "QUIT\r\n",
    ]);
    expect(transcript).toMatch(/^220 /);
    expect(transcript).not.toMatch(/^5\d\d .*Temporary/m);
    // A burst of junk from one client does not make the server refuse the next good message.
    for (let i = 0; i < 5; i++) await rawSession(["\x00\x01\x02 garbage\r\n", "HELO\r\n", "RCPT TO:<>\r\n"]);
    await client().sendMail({
      from: "good@example.com",
      to: `subscribe@${domain}`,
      subject: "hi",
      text: "subscribe",
    });
    expect(calls).toEqual(["subscribe good@example.com"]);
  });
});

describe("the inbound server's surface", () => {
  it("does not offer STARTTLS without a certificate of our own (smtp-server's bundled key is public)", async () => {
    const transcript = await rawSession(["EHLO client.example\r\n", "QUIT\r\n"]);
    expect(transcript).toMatch(/^250[ -]/m);
    expect(transcript).not.toContain("STARTTLS");
  });

  it("offers STARTTLS with INBOUND_TLS_CERT_FILE and _KEY_FILE's certificate", async () => {
    // A test-only certificate (test/fixtures/tls): what INBOUND_TLS_CERT_FILE and _KEY_FILE name.
    const fixtures = join(repoRoot, "test", "fixtures", "tls");
    const tlsServer = await startInboundServer({
      port: 0,
      host: "127.0.0.1",
      domain,
      mailboxes: [],
      secret: "inbound-test-secret-0123456789-0123456789",
      log: silentLogger,
      actions,
      tls: {
        cert: readFileSync(join(fixtures, "inbound-test.crt")),
        key: readFileSync(join(fixtures, "inbound-test.key")),
      },
    });
    try {
      const transcript = await rawSession(["EHLO client.example\r\n", "QUIT\r\n"], tlsServer.port);
      expect(transcript).toContain("STARTTLS");
    } finally {
      await tlsServer.close();
    }
  });

  it("handles a message with 20 copies of one recipient once, parsing it once", async () => {
    calls.length = 0;
    const report = [
      "From: MAILER-DAEMON@mx.example.com",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
      "",
      "--r",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.example.com",
      "",
      "Final-Recipient: rfc822; someone@example.com",
      "Action: failed",
      "Status: 5.1.1",
      "--r--",
      "",
    ].join("\r\n");
    await rawSession([
      "EHLO client.example\r\n",
      "MAIL FROM:<>\r\n",
      ...Array.from({ length: 20 }, () => `RCPT TO:<postmaster@${domain}>\r\n`),
      "DATA\r\n",
      `${report}\r\n.\r\n`,
      "QUIT\r\n",
    ]);
    expect(calls).toEqual(["bounce hard -"]);
  });
});

describe("the inbound limits", () => {
  /** A server whose limiter refuses the keys `refuse` matches, recording every key it is asked about. */
  async function limitedServer(refuse: RegExp, limitedReader: MessageReader = reader) {
    const keys: string[] = [];
    const limiter = {
      async hit(key: string) {
        keys.push(key);
        return !refuse.test(key);
      },
    };
    const limited = await startInboundServer({
      port: 0,
      host: "127.0.0.1",
      domain,
      mailboxes: knownMailboxes(`news@${domain}`, domain),
      secret: "inbound-test-secret-0123456789-0123456789",
      log: silentLogger,
      actions,
      limits: { commands: limiter, reports: limiter, signed: limiter },
      reader: limitedReader,
    });
    const send = (mail: Parameters<ReturnType<typeof client>["sendMail"]>[0]) =>
      createTransport({ host: "127.0.0.1", port: limited.port, secure: false, ignoreTLS: true }).sendMail(
        mail,
      );
    return { keys, send, close: () => limited.close() };
  }

  it("count commands per client IP and per sender domain, and drop one over either limit", async () => {
    const limited = await limitedServer(/domain:crowded\.test$/);
    try {
      calls.length = 0;
      await limited.send({
        from: "a@crowded.test",
        to: `subscribe@${domain}`,
        subject: "subscribe",
        text: "",
      });
      await limited.send({ from: "b@quiet.test", to: `subscribe@${domain}`, subject: "subscribe", text: "" });
      expect(calls).toEqual(["subscribe b@quiet.test"]);
      expect(limited.keys).toContain("inbound-command:ip:127.0.0.1");
      expect(limited.keys).toContain("inbound-command:domain:crowded.test");
    } finally {
      await limited.close();
    }
  });

  it("answer reports over the limit with 451, so a real server retries later; VERP bounces are not counted as reports", async () => {
    const limited = await limitedServer(/^inbound-report:/);
    const dsn = [
      "From: MAILER-DAEMON@mx.example.com",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
      "",
      "--r",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.example.com",
      "",
      "Final-Recipient: rfc822; someone@example.com",
      "Action: failed",
      "Status: 5.1.1",
      "--r--",
      "",
    ].join("\r\n");
    try {
      calls.length = 0;
      await expect(
        limited.send({ envelope: { from: "", to: [`postmaster@${domain}`] }, raw: dsn }),
      ).rejects.toMatchObject({ responseCode: 451 });
      const verp = `bounces+${signDeliveryToken("inbound-test-secret-0123456789-0123456789", 42)}@${domain}`;
      await limited.send({ envelope: { from: "", to: [verp] }, raw: dsn });
      expect(calls).toEqual(["bounce hard 42"]);
    } finally {
      await limited.close();
    }
  });
  it("count mail to signed addresses (VERP, unsubscribe+token) per client IP before reading it, and answer 451 over the limit", async () => {
    let reads = 0;
    const counting: MessageReader = {
      read: (raw, request) => {
        reads++;
        return reader.read(raw, request);
      },
      close: async () => {},
    };
    const limited = await limitedServer(/^inbound-signed:/, counting);
    const secret = "inbound-test-secret-0123456789-0123456789";
    const bounce = `bounces+${signDeliveryToken(secret, 42)}@${domain}`;
    const unsubscribe = `unsubscribe+${signSubscriberToken(secret, "unsubscribe", randomUUID())}@${domain}`;
    try {
      calls.length = 0;
      for (const to of [bounce, unsubscribe]) {
        await expect(
          limited.send({
            envelope: { from: "someone@elsewhere.example", to: [to] },
            raw: `Subject: x\r\n\r\n${"a".repeat(100_000)}\r\n`,
          }),
        ).rejects.toMatchObject({
          responseCode: 451,
          response: expect.stringContaining("Too many messages"),
        });
      }
      expect(limited.keys.filter((k) => k === "inbound-signed:ip:127.0.0.1")).toHaveLength(2);
      expect(reads).toBe(0);
      expect(calls).toEqual([]);
    } finally {
      await limited.close();
    }
  });
  it("keep only the first 1 MB of a large message (all that is read), and still answer it", async () => {
    const handed: number[] = [];
    const limited = await limitedServer(/^$/, measuringReader(reader, handed));
    try {
      calls.length = 0;
      const report = plainBounce(domain, `${"y".repeat(998)}\r\n`.repeat(3000));
      await limited.send({ envelope: { from: "", to: [`postmaster@${domain}`] }, raw: report });
      expect(handed).toEqual([PARSED_BYTES]);
      expect(calls).toEqual(["bounce hard -"]);
    } finally {
      await limited.close();
    }
  });
});
