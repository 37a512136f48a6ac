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
const database = await createTestDatabase();
let smtp: SmtpCapture;
let pipe: Pipeline;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  // Eight batch jobs of five: four run at once, each claim waiting its turn at 5 messages/s.
  pipe = await pipeline(database, smtp.url, { batchSize: 5 });
});
afterAll(async () => {
  await pipe?.close();
  await smtp?.close();
});

it("a claim that waits for the send rate longer than its lease is still sent once to each reader", async () => {
  await addReaders(database, 40);
  const { sendId } = await startSend(pipe.plan, { issueId: await storeIssue(database) });
  await pipe.startWorker({ sendRate: 5, leaseSeconds: 1, reconcileSeconds: 0.5 });
  await waitUntil(
    async () => (await sendStatusOf(database, sendId)) === "done",
    40_000,
    "the send to finish",
  );
  const recipients = smtp.messages.flatMap((m) => m.to);
  expect(recipients).toHaveLength(40);
  expect(new Set(recipients).size).toBe(40);
  const rows = await deliveryRows(database, sendId);
  expect(rows.every((r) => r.status === "sent" && r.ambiguous === 0)).toBe(true);
}, 60_000);
