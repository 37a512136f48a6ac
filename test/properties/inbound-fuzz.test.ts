import { sql } from "drizzle-orm";
import fc from "fast-check";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServe } from "../../src/cli/serve-process.js";
import { openQueue, redisConnection, type TransactionalJob } from "../../src/queues.js";
import { signDeliveryToken, signSubscriberToken } from "../../src/subscribers/tokens.js";
import type { TestDatabase } from "../helpers/db.js";
import { sharedRedisUrl } from "../helpers/redis.js";
import type { SmtpCapture } from "../helpers/smtp.js";
import { type InboundService, startInboundService } from "../inbound/harness.js";
import { identity, secret } from "../sending/harness.js";
import { inboundArbitrary } from "./inbound-messages.js";
import { checkCapturedMail } from "./mail-check.js";

/**
 * 1,000 malformed messages over real SMTP into the inbound server, wired to the real actions
 * (Postgres, Redis, the transactional worker mailing into a capture server). SMTP has no 5xx rule
 * like HTTP: refusals are fine, but bad input must never be answered 4xx "try again later".
 */
const runs = 1000;
const domain = identity.domain;
let service: InboundService;
let database: TestDatabase;
let outbox: SmtpCapture;
let serve: RunningServe;

beforeAll(async () => {
  // A thousand messages from one address: far past the per-IP limits, which other tests cover.
  const many = { limit: 100_000, windowSeconds: 3600 };
  service = await startInboundService("inbound-fuzz", {
    inboundLimits: { commands: many, reports: many, signed: many },
  });
  ({ database, outbox, serve } = service);
});

afterAll(() => service?.close());

const inbound = () =>
  createTransport({ host: "127.0.0.1", port: serve.inboundPort, secure: false, ignoreTLS: true, pool: true });

/** The server's answer to one message: "250", or the code of the refusal; "client" when nodemailer would not send it. */
async function deliver(
  transport: ReturnType<typeof inbound>,
  m: { envelopeFrom: string; to: string; raw: Buffer },
): Promise<string> {
  try {
    await transport.sendMail({ envelope: { from: m.envelopeFrom, to: [m.to] }, raw: m.raw });
    return "250";
  } catch (error) {
    const code = (error as { responseCode?: number }).responseCode;
    return code ? String(code) : `client: ${(error as Error).message.slice(0, 60)}`;
  }
}

describe("1,000 malformed inbound messages", () => {
  it("are all answered, none with a temporary failure, and the server keeps serving", async () => {
    const transport = inbound();
    const answers = new Map<string, number>();
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(inboundArbitrary(domain, secret), async (m) => {
        const answer = await deliver(transport, m);
        answers.set(answer, (answers.get(answer) ?? 0) + 1);
        expect(answer, `${m.to} ${JSON.stringify(m.raw.subarray(0, 300).toString("latin1"))}`).not.toMatch(
          /^4/,
        );
        expect(answer).not.toMatch(/^client: (Connection|Greeting|Socket)/);
      }),
      { numRuns: runs },
    );
    console.error(
      `inbound-fuzz: ${runs} messages in ${Date.now() - started} ms; answers`,
      JSON.stringify(Object.fromEntries(answers)),
    );
    expect(answers.get("250") ?? 0).toBeGreaterThan(runs / 2);

    // The next good message after all of that is handled as usual.
    const good = await deliver(transport, {
      envelopeFrom: "after@readers.example",
      to: `subscribe@${domain}`,
      raw: Buffer.from("From: after@readers.example\r\nSubject: subscribe\r\n\r\nsubscribe\r\n"),
    });
    transport.close();
    expect(good).toBe("250");
    const [row] = await database.query<{ status: string }>(
      sql`select status from subscribers where email = 'after@readers.example'`,
    );
    expect(row?.status).toBe("pending");
  }, 120_000);

  it("caused only mail with exactly one recipient and no extra headers", async () => {
    const settings = { redisUrl: sharedRedisUrl, queuePrefix: service.prefix };
    const connection = redisConnection(settings, "producer");
    const queue = openQueue<TransactionalJob>("transactional", settings, connection);
    const deadline = Date.now() + 30_000;
    let counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "failed");
    while (
      Object.values(counts).reduce((a, b) => a + b, 0) - (counts.failed ?? 0) > 0 &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 100));
      counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "failed");
    }
    await queue.close();
    connection.disconnect();
    expect(counts.failed).toBe(0);
    const report = await checkCapturedMail(outbox.messages);
    console.error(
      `inbound-fuzz: ${outbox.messages.length} mails caused and parsed`,
      JSON.stringify(report.kinds),
    );
    expect(report.problems).toEqual([]);
    expect(report.kinds.confirm ?? 0).toBeGreaterThan(0);
  }, 60_000);
});

describe("reports and commands naming what does not exist", () => {
  const dsnTo = (to: string) => ({
    envelopeFrom: "",
    to,
    raw: Buffer.from(
      [
        "From: MAILER-DAEMON@mx.readers.example",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        "",
        "--r",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.readers.example",
        "",
        "Final-Recipient: rfc822; gone@readers.example",
        "Action: failed",
        "Status: 5.1.1",
        "--r--",
        "",
      ].join("\r\n"),
    ),
  });

  it("a correctly signed bounce for a delivery that is gone is accepted and stores nothing", async () => {
    const transport = inbound();
    const answer = await deliver(
      transport,
      dsnTo(`bounces+${signDeliveryToken(secret, 987_654_321)}@${domain}`),
    );
    transport.close();
    expect(answer).toBe("250");
    const rows = await database.query<{ n: number }>(sql`select count(*)::int as n from bounces`);
    expect(rows[0]?.n).toBe(0);
  });

  it("a List-Unsubscribe mail for an erased reader is accepted, not deferred", async () => {
    const transport = inbound();
    const token = signSubscriberToken(secret, "unsubscribe", "6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b");
    const answer = await deliver(transport, {
      envelopeFrom: "reader@readers.example",
      to: `unsubscribe+${token}@${domain}`,
      raw: Buffer.from("From: reader@readers.example\r\nSubject: unsubscribe\r\n\r\nunsubscribe\r\n"),
    });
    transport.close();
    expect(answer).toBe("250");
  });
});
