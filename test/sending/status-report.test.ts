import { sql } from "drizzle-orm";
import { describe, expect, it, onTestFinished } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import { digest } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { freePort, startSmtpCapture } from "../helpers/smtp.js";
import { addReaders, pipeline, sendStatusOf, storeIssue, waitUntil } from "./harness.js";

/** `digest status` says why deliveries wait or fail, and what a finished send did. */
const database = await createTestDatabase();
const env = { DATABASE_URL: database.url, SEND_RATE: "1000" };
const issueId = await storeIssue(database);

describe("status names the reason", { timeout: 120_000 }, () => {
  it("with the SMTP server refusing connections, names connection refused with its count", async () => {
    await addReaders(database, 20, "refused.test");
    const pipe = await pipeline(database, `smtp://127.0.0.1:${await freePort()}`);
    onTestFinished(() => pipe.close());
    const { sendId } = await startSend(pipe.plan, { issueId });
    await pipe.startWorker({ retryBaseSeconds: 60 });
    await waitUntil(
      async () =>
        (
          await database.query<{ n: number }>(sql`select count(*)::int as n from deliveries
          where send_id = ${sendId} and status = 'deferred'`)
        )[0]?.n === 20,
      30_000,
      "every delivery deferred",
    );
    const json = JSON.parse(digest(["status", sendId, "--json"], { env }).stdout);
    expect(json).toMatchObject({ deferred: 20, sent: 0 });
    expect(json.reasons).toEqual([
      {
        status: "deferred",
        reason: "connection refused",
        count: 20,
        example: expect.stringMatching(/ECONNREFUSED/),
      },
    ]);
    const text = digest(["status", sendId], { env }).stdout;
    expect(text).toContain('deferred 20: connection refused (e.g. "connect ECONNREFUSED 127.0.0.1:');
    await database.query(sql`update sends set status = 'cancelled' where id = ${sendId}`);
  });
});

describe("the per-send report", { timeout: 120_000 }, () => {
  it("shows sent, bounced by reason, failed with reasons, unsubscribes from this issue, duration, ambiguous", async () => {
    await database.query(sql`update subscribers set status = 'unsubscribed'`);
    await addReaders(database, 6, "report.test");
    const smtp = await startSmtpCapture({
      onRcpt: (address) =>
        address === "r0@report.test"
          ? { code: 550, message: "5.1.1 <r0@report.test>: Recipient address rejected: User unknown" }
          : address === "r1@report.test"
            ? { code: 550, message: "5.7.1 Message rejected under policy" }
            : undefined,
    });
    const pipe = await pipeline(database, smtp.url);
    try {
      const { sendId } = await startSend(pipe.plan, { issueId, again: true });
      await pipe.startWorker();
      await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 90_000, "send done");
      // r2 leaves through this issue's link after it arrived; r3's mailbox provider reports abuse.
      await database.query(sql`update subscribers set status = 'unsubscribed', unsubscribed_at = now()
        where email = 'r2@report.test'`);
      await database.query(sql`insert into bounces (delivery_id, subscriber_id, type, feedback_type, source)
        select d.id, d.subscriber_id, 'complaint', 'abuse', 'arf' from deliveries d
        join subscribers s on s.id = d.subscriber_id where d.send_id = ${sendId} and s.email = 'r3@report.test'`);
      const json = JSON.parse(digest(["status", sendId, "--json"], { env }).stdout);
      expect(json.report).toMatchObject({
        sent: 4,
        bounced: [{ type: "hard", count: 1 }],
        complaints: [{ feedbackType: "abuse", count: 1 }],
        unsubscribes: 1,
        failed: [{ reason: "5.7.x policy or authentication", count: 1 }],
        ambiguous: 0,
      });
      expect(json.report.durationSeconds).toBeGreaterThanOrEqual(0);
      const text = digest(["status", sendId], { env }).stdout;
      expect(text).toContain("report:");
      expect(text).toContain("sent 4");
      expect(text).toMatch(/bounced 1:\n {6}1 hard: /);
      expect(text).toContain("unsubscribes from this issue 1");
      expect(text).toContain("complaints 1 (abuse 1)");
      expect(text).toContain(
        '1 5.7.x policy or authentication (e.g. "550 5.7.1 Message rejected under policy")',
      );
      expect(text).toMatch(/duration \d+ s/);
      expect(text).toContain("ambiguous 0");
    } finally {
      await pipe.close();
      await smtp.close();
    }
  }, 120_000);
});
