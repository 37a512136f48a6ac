import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controlSend } from "../../src/sending/control.js";
import { startSend } from "../../src/sending/plan.js";
import { loadSendStatus } from "../../src/sending/status.js";
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

/** Staff control of a running send, readers leaving mid-send, and several workers sharing one send. */
const database = await createTestDatabase();
let smtp: SmtpCapture;
let pipe: Pipeline;
let issueId: string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  smtp = await startSmtpCapture();
  pipe = await pipeline(database, smtp.url, { batchSize: 25 });
  issueId = await storeIssue(database);
  await addReaders(database, 80);
  await pipe.startWorker({ sendRate: 40 });
});
afterAll(async () => {
  await pipe.close();
  await smtp.close();
});

describe("controlling a send", () => {
  it("a reader who unsubscribes mid-send gets nothing that was not yet claimed", async () => {
    const before = smtp.messages.length;
    const { sendId } = await startSend(pipe.plan, { issueId });
    await smtp.waitFor(before + 5);
    // Only rows no claim holds: a claim in progress has them locked (and a row locked here is
    // skipped by the claim), so "not yet claimed" means the same to the test and the worker.
    const left = await database.query<{ email: string }>(sql`
      update subscribers set status = 'unsubscribed' where id in (
        select subscriber_id from deliveries where send_id = ${sendId} and status = 'queued'
        for update skip locked)
      returning email`);
    expect(left.length).toBeGreaterThan(10);
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 20_000, "send done");
    const mailed = new Set(smtp.messages.slice(before).flatMap((m) => m.to));
    expect(left.filter((r) => mailed.has(r.email))).toEqual([]);
    const rows = await deliveryRows(database, sendId);
    expect(rows.filter((r) => r.status === "skipped")).toHaveLength(left.length);
    await database.query(sql`update subscribers set status = 'active'`);
  });

  it("pause stops the flow within a second and resume finishes the send, each reader once", async () => {
    const before = smtp.messages.length;
    const { sendId } = await startSend(pipe.plan, { issueId, again: true });
    await smtp.waitFor(before + 5);
    await controlSend(pipe.plan, sendId, "pause");
    await sleep(1000);
    const settled = smtp.messages.length;
    await sleep(1500);
    expect(smtp.messages.length).toBe(settled);
    const paused = await loadSendStatus(database, sendId);
    expect(paused).toMatchObject({ status: "paused", sending: 0 });
    expect(paused.queued).toBeGreaterThan(0);
    await controlSend(pipe.plan, sendId, "resume");
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 20_000, "send done");
    const to = smtp.messages.slice(before).flatMap((m) => m.to);
    expect(to).toHaveLength(80);
    expect(new Set(to).size).toBe(80);
  });

  it("cancel stops the flow and skips what was left", async () => {
    const before = smtp.messages.length;
    const { sendId } = await startSend(pipe.plan, { issueId, again: true });
    await smtp.waitFor(before + 5);
    await controlSend(pipe.plan, sendId, "cancel");
    await sleep(1000);
    const settled = smtp.messages.length;
    await sleep(1500);
    expect(smtp.messages.length).toBe(settled);
    const status = await loadSendStatus(database, sendId);
    expect(status).toMatchObject({ status: "cancelled", queued: 0, sending: 0 });
    expect(status.skipped).toBeGreaterThan(0);
    expect(status.sent + status.skipped).toBe(80);
    await expect(controlSend(pipe.plan, sendId, "resume")).rejects.toMatchObject({ kind: "conflict" });
  });

  it("two workers share one send and never send one delivery twice", async () => {
    await pipe.startWorker({ sendRate: 40 });
    const before = smtp.messages.length;
    const { sendId } = await startSend(pipe.plan, { issueId, again: true });
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 20_000, "send done");
    const to = smtp.messages.slice(before).flatMap((m) => m.to);
    expect(to).toHaveLength(80);
    expect(new Set(to).size).toBe(80);
    expect((await loadSendStatus(database, sendId)).ambiguous).toBe(0);
  });

  it("control refuses what is not a send id, and a send that does not exist", async () => {
    await expect(controlSend(pipe.plan, "nope", "pause")).rejects.toMatchObject({ kind: "invalid" });
    await expect(
      controlSend(pipe.plan, "00000000-0000-4000-8000-000000000000", "pause"),
    ).rejects.toMatchObject({ kind: "not_found" });
  });
});
