import { afterAll, expect, it } from "vitest";
import { createMailer } from "../../src/sending/mailer.js";
import { startSmtpCapture } from "../helpers/smtp.js";

/** The pooled mailer's transport options reach nodemailer: connections are reused and time out. */
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
