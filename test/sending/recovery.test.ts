import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import { loadSendStatus } from "../../src/sending/status.js";
import { createTestDatabase } from "../helpers/db.js";
import { type PrivateRedis, startPrivateRedis } from "../helpers/redis.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import { addReaders, type Pipeline, pipeline, sendStatusOf, storeIssue, waitUntil } from "./harness.js";

/** Redis only dispatches: a flushed Redis loses jobs, and the reconciler rebuilds them from rows. */
const database = await createTestDatabase();
let smtp: SmtpCapture;
let redis: PrivateRedis;
let pipe: Pipeline;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  redis = await startPrivateRedis();
  pipe = await pipeline(database, smtp.url, { redisUrl: redis.url, batchSize: 20 });
  await addReaders(database, 150);
  await pipe.startWorker({ sendRate: 60, reconcileSeconds: 1 });
});
afterAll(async () => {
  await pipe.close();
  await smtp.close();
  await redis.stop(true);
});

it("Redis flushed mid-send: the reconciler re-enqueues the lost batches and the send finishes", async () => {
  const issueId = await storeIssue(database);
  const { sendId } = await startSend(pipe.plan, { issueId });
  await smtp.waitFor(20);
  const admin = new Redis(redis.url);
  await admin.flushall();
  admin.disconnect();
  await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 30_000, "send done");
  const to = smtp.messages.flatMap((m) => m.to);
  const status = await loadSendStatus(database, sendId);
  expect(new Set(to).size).toBe(150);
  expect(to.length - 150).toBeLessThanOrEqual(status.ambiguous);
  expect(status.sent).toBe(150);
});
