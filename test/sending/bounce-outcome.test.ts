import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import { createTestDatabase } from "../helpers/db.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import {
  deliveryRows,
  type Pipeline,
  pipeline,
  sendStatusOf,
  softBounces,
  storeIssue,
  waitUntil,
} from "./harness.js";

/**
 * A permanent refusal after DATA (554) is a soft bounce: the delivery ends `bounced` and the reader
 * gets one soft bounce. That outcome must become visible all at once. The fault suite lost readers
 * to `failed` on a busy machine because the worker commits the row as `failed` first and records
 * the bounce (turning it `bounced`) in later transactions: in between, the reconciler or another
 * job sees nothing left to send and marks the send `done`, and whoever reads the send then finds
 * `failed` rows and readers without their soft bounce (and a worker killed in between loses the
 * bounce for good). Here the gap is held open on purpose by locking the reader's row, as a slow
 * bounce transaction on a loaded machine would.
 */
const database = await createTestDatabase();
let smtp: SmtpCapture;
let pipe: Pipeline;

beforeAll(async () => {
  smtp = await startSmtpCapture({
    onData: (to) =>
      to.includes("refused@readers.test")
        ? { code: 554, message: "5.6.0 Message content rejected" }
        : undefined,
  });
  pipe = await pipeline(database, smtp.url);
});
afterAll(async () => {
  await pipe.close();
  await smtp.close();
});

// The outcome write records the bounce policy first and only then releases the rows (outcome-write.ts):
// a send cannot look done while a refused reader's bounce is still being recorded.
it("a send is never done while a refused reader's soft bounce is still unrecorded", async () => {
  const issueId = await storeIssue(database);
  await database.query(sql`insert into subscribers (email, status, consent_source)
    values ('refused@readers.test', 'active', 'admin'), ('fine@readers.test', 'active', 'admin')`);
  // Another session holds the refused reader's row, so recording their bounce has to wait (NO KEY
  // UPDATE: planning the send may still reference the row, recordBounce's FOR UPDATE may not).
  const blocker = postgres(database.url, { max: 1, onnotice: () => {} });
  const held = await blocker.reserve();
  await held`begin`;
  await held`select 1 from subscribers where email = 'refused@readers.test' for no key update`;
  try {
    const worker = await pipe.startWorker({ leaseSeconds: 60, reconcileSeconds: 3600 });
    const { sendId } = await startSend(pipe.plan, { issueId });
    await smtp.waitFor(1, 10_000); // the fine reader's copy: the batch went out
    // Let the worker get as far as it can before the lock stops it.
    await waitUntil(
      async () => (await deliveryRows(database, sendId)).every((r) => r.status !== "sending"),
      2_000,
      "rows to leave sending",
    ).catch(() => {});
    await worker.reconcileNow();
    const status = await sendStatusOf(database, sendId);
    const [bounces] = await database.query<{ n: number }>(sql`select count(*)::int as n from bounces`);
    expect({ status, bounces: bounces?.n }).not.toEqual({ status: "done", bounces: 0 });

    await held`rollback`;
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 20_000, "send done");
    const rows = await deliveryRows(database, sendId);
    expect(rows.find((r) => r.email === "refused@readers.test")?.status).toBe("bounced");
    const [reader] = await database.query<{ status: string; soft_bounces: number }>(
      sql`select status, ${softBounces} as soft_bounces from subscribers where email = 'refused@readers.test'`,
    );
    expect(reader).toEqual({ status: "active", soft_bounces: 1 });
  } finally {
    await held`rollback`.catch(() => {});
    held.release();
    await blocker.end({ timeout: 1 });
  }
});
