import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import { signSubscriberToken } from "../../src/subscribers/tokens.js";
import type { TestDatabase } from "../helpers/db.js";
import type { SmtpCapture } from "../helpers/smtp.js";
import { type InboundService, startInboundService } from "../inbound/harness.js";
import { addReaders, identity, type Pipeline, pipeline, secret, storeIssue } from "../sending/harness.js";

/**
 * The attacks of issue 9, replayed over real SMTP into the inbound server with the whole service
 * behind it (Postgres, Redis queues, the transactional worker mailing into a capture server), each
 * shown to fail.
 */
let service: InboundService;
let database: TestDatabase;
let outbox: SmtpCapture;
let sending: Pipeline;
let sendId: string;
/** Delivery id by reader address, for the real send every reader got. */
const deliveryOf = new Map<string, number>();
const domain = identity.domain;
const attacker = "r15@readers.test";
/** Every log line the service wrote, as JSON text. */
const logLines: string[] = [];
const log = pino({ level: "info" }, { write: (line: string) => logLines.push(line) });

async function statuses(): Promise<Map<string, string>> {
  const rows = await database.query<{ email: string; status: string }>(
    sql`select email, status from subscribers order by email`,
  );
  return new Map(rows.map((r) => [r.email, r.status]));
}

const count = async (table: "suppressions" | "bounces") =>
  (await database.query<{ n: number }>(sql.raw(`select count(*)::int as n from ${table}`)))[0]?.n;

beforeAll(async () => {
  service = await startInboundService("attacks", { log });
  ({ database, outbox } = service);
  sending = await pipeline(database, outbox.url);
  await addReaders(database, 30);
  const issueId = await storeIssue(database);
  await sending.startWorker();
  const started = await startSend(sending.plan, { issueId });
  sendId = started.sendId;
  await outbox.waitFor(30);
  const rows = await database.query<{ id: number; email: string }>(sql`
    select d.id::float8 as id, s.email from deliveries d join subscribers s on s.id = d.subscriber_id`);
  for (const r of rows) deliveryOf.set(r.email, r.id);
}, 60_000);

afterAll(async () => {
  await sending?.close();
  await service?.close();
});

/** An ARF abuse report to abuse@ about the message with this Message-ID, naming `victim`. */
function arf(messageId: string, victim: string): string {
  return [
    "From: feedback@isp.test",
    `To: abuse@${domain}`,
    "Subject: Abuse report",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=feedback-report; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "This is an email abuse report.",
    "--b",
    "Content-Type: message/feedback-report",
    "",
    "Feedback-Type: abuse",
    "User-Agent: isp-fbl/1.0",
    "Version: 1",
    `Original-Rcpt-To: ${victim}`,
    "--b",
    "Content-Type: text/rfc822-headers",
    "",
    `Message-ID: ${messageId}`,
    `To: ${victim}`,
    "Subject: US-Japan Alliance Digest",
    "--b--",
    "",
  ].join("\r\n");
}

/** A hard DSN to postmaster@ about the message with this Message-ID, naming `victim`. */
function dsn(messageId: string, victim: string): string {
  return [
    "From: MAILER-DAEMON@mx.readers.test",
    `To: postmaster@${domain}`,
    "Subject: Undelivered Mail Returned to Sender",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="f"',
    "",
    "--f",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.readers.test",
    "",
    `Final-Recipient: rfc822; ${victim}`,
    "Action: failed",
    "Status: 5.1.1",
    `Diagnostic-Code: smtp; 550 5.1.1 <${victim}>: User unknown`,
    "--f",
    "Content-Type: text/rfc822-headers",
    "",
    `Message-ID: ${messageId}`,
    `To: ${victim}`,
    "--f--",
    "",
  ].join("\r\n");
}

describe("a subscriber forging reports with guessed Message-IDs", () => {
  it("changes no other reader's status or suppression with 100 forged ARF and DSN reports", async () => {
    const own = outbox.messages.find((m) => m.to[0] === attacker);
    const ownId = (await simpleParser(own!.raw)).messageId ?? "";
    // What the attacker learns from their own copy: the send id, their delivery id and its signature.
    const [, ownDelivery, ownSignature] = /\.(\d+)\.([0-9a-f]{20})@/.exec(ownId) ?? [];
    expect(ownSignature).toBeDefined();
    const readers = [...deliveryOf.keys()].filter((e) => e !== attacker);
    const before = await statuses();
    const client = service.client({ pool: true });
    let sent = 0;
    for (let i = 0; sent < 100; i++) {
      const victim = readers[i % readers.length] as string;
      const guessed = Number(ownDelivery) + ((i % 21) - 10);
      const forgedIds = [
        `<${sendId}.${guessed}@${domain}>`, // the old unsigned form
        `<${sendId}.${guessed}.${ownSignature}@${domain}>`, // the attacker's signature on another id
        `<${sendId}.${guessed}.${"0".repeat(20)}@${domain}>`,
        ownId, // a real, signed id: but it is the attacker's delivery, not the victim's
      ];
      const messageId = forgedIds[i % forgedIds.length] as string;
      const raw = i % 2 === 0 ? arf(messageId, victim) : dsn(messageId, victim);
      const to = i % 2 === 0 ? `abuse@${domain}` : `postmaster@${domain}`;
      await client.sendMail({ envelope: { from: i % 2 === 0 ? "feedback@isp.test" : "", to: [to] }, raw });
      sent++;
    }
    client.close();
    expect(await statuses()).toEqual(before);
    expect(await count("suppressions")).toBe(0);
    expect(await count("bounces")).toBe(0);
    // The same channel still works for the truth: a report about the attacker's own copy counts.
    await service.client().sendMail({
      envelope: { from: "feedback@isp.test", to: [`abuse@${domain}`] },
      raw: arf(ownId, attacker),
    });
    expect((await statuses()).get(attacker)).toBe("complained");
  }, 60_000);
});

describe("mail commands", () => {
  it("leaves a reader active when a forged From asks unsubscribe@, and mails them their own link", async () => {
    const victim = "r3@readers.test";
    const before = outbox.messages.length;
    await service.client().sendMail({
      from: victim,
      to: `unsubscribe@${domain}`,
      subject: "unsubscribe",
      text: "unsubscribe",
    });
    // The forger's favourite trick: Auto-Submitted would have silenced the goodbye mail.
    await service.client().sendMail({
      from: victim,
      to: `unsubscribe@${domain}`,
      subject: "unsubscribe",
      text: "",
      headers: { "Auto-Submitted": "auto-generated" },
    });
    const [link] = (await outbox.waitFor(before + 1)).slice(before);
    expect((await statuses()).get(victim)).toBe("active");
    expect(link?.to).toEqual([victim]);
    const mail = await simpleParser(link!.raw);
    expect(mail.subject).toMatch(/^Your link to unsubscribe/);
    expect(String(link!.raw)).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    const url = /http:\/\/127\.0\.0\.1:\d+\/unsubscribe\/[a-z2-7]+/.exec(mail.text ?? "")?.[0];
    expect(url).toBeDefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(outbox.messages.length).toBe(before + 1);
    // The reader's own click is what unsubscribes.
    const res = await fetch(url!, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status).toBe(200);
    expect((await statuses()).get(victim)).toBe("unsubscribed");
  });

  it("unsubscribes at once by the List-Unsubscribe mailto address, whose token proves the reader", async () => {
    const [row] = await database.query<{ id: string }>(
      sql`select id from subscribers where email = 'r4@readers.test'`,
    );
    const token = signSubscriberToken(secret, "unsubscribe", row!.id);
    await service.client().sendMail({
      from: "someone@elsewhere.test",
      to: `unsubscribe+${token}@${domain}`,
      subject: "unsubscribe",
      text: "",
    });
    expect((await statuses()).get("r4@readers.test")).toBe("unsubscribed");
  });

  it("does not let a stranger's subscribe mail turn an unsubscribed reader pending", async () => {
    await service.client().sendMail({
      from: "r4@readers.test",
      to: `subscribe@${domain}`,
      subject: "subscribe",
      text: "",
    });
    expect((await statuses()).get("r4@readers.test")).toBe("unsubscribed");
  });

  it("limits 30 forged senders to subscribe@ from one IP", async () => {
    const before = outbox.messages.length;
    const client = service.client({ pool: true });
    for (let i = 0; i < 30; i++) {
      await client.sendMail({
        from: `victim${i}@target${i}.test`,
        to: `subscribe@${domain}`,
        subject: "subscribe",
        text: "",
      });
    }
    client.close();
    const pending = await database.query<{ email: string }>(
      sql`select email from subscribers where status = 'pending' and email like 'victim%' order by email`,
    );
    // Ten commands an hour from one address, and this file already sent a few.
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.length).toBeLessThanOrEqual(10);
    expect(pending.map((p) => p.email)).not.toContain("victim29@target29.test");
    await new Promise((r) => setTimeout(r, 1000));
    const confirmations = outbox.messages.slice(before).filter((m) => String(m.raw).includes("Confirm"));
    expect(confirmations.length).toBe(pending.length);
  });
});

describe("the inbound log", () => {
  it("says why each ignored message was ignored, naming no address (a hash or a delivery id instead)", () => {
    const text = logLines.join("");
    expect(text).toContain("report not applied");
    expect(text).toContain("over the rate limit");
    expect(text).not.toMatch(/[a-z0-9.-]+@(readers|target\d+|isp|elsewhere)\.test/i);
  });
});
