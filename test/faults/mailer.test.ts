import { afterAll, expect, it } from "vitest";
import { createMailer } from "../../src/sending/mailer.js";
import { startSmtpCapture } from "../helpers/smtp.js";

/** The mailer keeps SMTP_POOL sessions, resets one after a refusal, never re-sends a message on another, and times out. */
const envelope = { from: "bounces@example.org", to: ["reader@faults.test"] };
const raw = "From: a@example.org\r\nTo: reader@faults.test\r\nSubject: hi\r\n\r\nhello\r\n";

it("many messages share the pool's few connections", async () => {
  let connections = 0;
  const smtp = await startSmtpCapture({
    onConnect: () => {
      connections++;
      return undefined;
    },
  });
  afterAll(() => smtp.close());
  const mailer = createMailer({ smtpUrl: smtp.url, pool: 2 });
  for (let i = 0; i < 20; i++) await mailer.sendRaw(envelope, raw);
  mailer.close();
  expect(smtp.messages).toHaveLength(20);
  expect(connections).toBeLessThanOrEqual(2);
});

it("a server that stalls after the final dot is given up after the socket timeout", async () => {
  const smtp = await startSmtpCapture({ afterDot: () => ({ action: "stall", ms: 30_000, keep: true }) });
  afterAll(() => smtp.close());
  const mailer = createMailer({ smtpUrl: smtp.url, pool: 1, socketTimeoutMs: 1000 });
  const started = Date.now();
  await expect(mailer.sendRaw(envelope, raw)).rejects.toMatchObject({ code: "ETIMEDOUT" });
  mailer.close();
  expect(Date.now() - started).toBeLessThan(5000);
});

it("a refusal at RCPT resets the session, and the next message goes over the same connection", async () => {
  let connections = 0;
  const smtp = await startSmtpCapture({
    onConnect: () => {
      connections++;
      return undefined;
    },
    onRcpt: (address) =>
      address.startsWith("nobody@") ? { code: 550, message: "5.1.1 No such user" } : undefined,
  });
  afterAll(() => smtp.close());
  const mailer = createMailer({ smtpUrl: smtp.url, pool: 1 });
  await expect(mailer.sendRaw({ ...envelope, to: ["nobody@faults.test"] }, raw)).rejects.toMatchObject({
    code: "EENVELOPE",
  });
  await mailer.sendRaw(envelope, raw);
  mailer.close();
  expect(smtp.messages.map((m) => m.to)).toEqual([["reader@faults.test"]]);
  expect(connections).toBe(1);
});

it("a message whose connection drops after the final dot is never handed to another connection", async () => {
  let first = true;
  const smtp = await startSmtpCapture({
    afterDot: () => {
      if (!first) return undefined;
      first = false;
      return { action: "drop", keep: true };
    },
  });
  afterAll(() => smtp.close());
  const mailer = createMailer({ smtpUrl: smtp.url, pool: 2 });
  await expect(mailer.sendRaw(envelope, raw)).rejects.toMatchObject({ code: "ECONNECTION" });
  await new Promise((r) => setTimeout(r, 300));
  expect(smtp.messages).toHaveLength(1);
  // The session is gone; the next message opens a new one and goes out once.
  await mailer.sendRaw(envelope, raw);
  mailer.close();
  expect(smtp.messages).toHaveLength(2);
});

it("signs each message with DKIM when a key is given", async () => {
  const { generateKeyPairSync } = await import("node:crypto");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
  const smtp = await startSmtpCapture();
  afterAll(() => smtp.close());
  const mailer = createMailer({
    smtpUrl: smtp.url,
    pool: 1,
    dkim: {
      domainName: "example.org",
      keySelector: "s1",
      privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    },
  });
  await mailer.sendRaw(envelope, raw);
  mailer.close();
  expect(smtp.messages[0]?.raw.toString()).toMatch(
    /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.org;/,
  );
});
