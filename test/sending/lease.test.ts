import { afterAll, beforeAll, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import { createTestDatabase } from "../helpers/db.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import {
  addReaders,
  deliveryRows,
  type Pipeline,
  pipeline,
  sendStatusOf,
  storeIssue,
  waitUntil,
} from "./harness.js";

/**
 * A live worker whose claims wait longer for the send rate than its lease lasts keeps its rows (it
 * renews the lease every third of it until the outcomes are written), so the reconciler never hands
 * them to another job while they are being sent: no reader gets a second copy when nothing crashed.
 */
const readers = 20;
const database = await createTestDatabase();
let smtp: SmtpCapture;
let pipe: Pipeline;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  // Four batch jobs of five, all running at once: each claims two rows (a second of mail shared by
  // four jobs), so the eight claimed rows take 1.6 s at 5 messages/s, longer than the 1 s lease.
  pipe = await pipeline(database, smtp.url, { batchSize: 5 });
});
afterAll(async () => {
  await pipe?.close();
  await smtp?.close();
});

it("a claim that waits for the send rate longer than its lease is still sent once to each reader", async () => {
  await addReaders(database, readers);
  const { sendId } = await startSend(pipe.plan, { issueId: await storeIssue(database) });
  await pipe.startWorker({ sendRate: 5, leaseSeconds: 1, reconcileSeconds: 0.5 });
  await waitUntil(
    async () => (await sendStatusOf(database, sendId)) === "done",
    40_000,
    "the send to finish",
  );
  const recipients = smtp.messages.flatMap((m) => m.to);
  expect(recipients).toHaveLength(readers);
  expect(new Set(recipients).size).toBe(readers);
  const rows = await deliveryRows(database, sendId);
  expect(rows.every((r) => r.status === "sent" && r.ambiguous === 0)).toBe(true);
}, 60_000);
