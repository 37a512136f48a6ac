import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import type { SendProgress } from "../../src/sending/status.js";
import { digestBin, repoRoot } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { startSmtpCapture } from "../helpers/smtp.js";
import { addReaders, pipeline, storeIssue, waitUntil } from "../sending/harness.js";

/**
 * Progress that tells the truth: during a 2,000-reader send at SEND_RATE=100, `digest status --json`
 * (a separate process, as staff run it) reports the rate the SMTP server actually sees, and a time
 * left that matches how long the send then takes. The worker runs in this process, so the status
 * command is spawned without blocking it.
 */
const run = promisify(execFile);
const database = await createTestDatabase();
const smtp = await startSmtpCapture();
const pipe = await pipeline(database, smtp.url, { batchSize: 100 });
afterAll(async () => {
  await pipe.close();
  await smtp.close();
});

async function statusJson(sendId: string): Promise<{ status: SendProgress; at: number }> {
  const { stdout } = await run(process.execPath, [digestBin, "status", sendId, "--json"], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: database.url, SEND_RATE: "100" },
  });
  const status = JSON.parse(stdout) as SendProgress;
  // The moment the figures describe, by the database's clock (the same machine's clock here).
  return { status, at: new Date(status.asOf ?? Date.now()).getTime() };
}

describe("status --json during a 2,000-reader send at SEND_RATE=100", () => {
  it("has rate within 25 % of the sink's rate, and secondsLeft within 25 % of the time the send then took", async () => {
    await addReaders(database, 2000);
    const issueId = await storeIssue(database);
    const { sendId } = await startSend(pipe.plan, { issueId });
    await pipe.startWorker({ sendRate: 100 });
    // Past the first 10 s window and the limiter's one-second burst, well before the end.
    await smtp.waitFor(1, 30_000);
    const firstAt = smtp.messages[0]?.receivedAt ?? Date.now();
    await waitUntil(async () => Date.now() - firstAt > 10_500, 30_000, "ten seconds of sending");
    const { status, at } = await statusJson(sendId);
    const sinkRate =
      smtp.messages.filter((m) => m.receivedAt > at - 10_000 && m.receivedAt <= at).length / 10;
    await waitUntil(
      async () =>
        (await database.query<{ status: string }>(sql`select status from sends where id = ${sendId}`))[0]
          ?.status === "done",
      120_000,
      "the send to finish",
    );
    const lastAt = Math.max(...smtp.messages.map((m) => m.receivedAt));
    const took = (lastAt - at) / 1000;
    process.stderr.write(
      `status-truth: rate ${status.rate}/s vs sink ${sinkRate}/s; secondsLeft ${status.secondsLeft} vs ${took.toFixed(1)} s taken\n`,
    );
    expect(smtp.messages).toHaveLength(2000);
    expect(status.status).toBe("running");
    expect(Math.abs(status.rate - sinkRate)).toBeLessThanOrEqual(0.25 * sinkRate);
    expect(status.secondsLeft).not.toBeNull();
    expect(Math.abs((status.secondsLeft ?? 0) - took)).toBeLessThanOrEqual(0.25 * took);
  }, 180_000);
});
