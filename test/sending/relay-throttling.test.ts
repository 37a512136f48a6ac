import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import { relayRate, relayRateKey } from "../../src/sending/relay-rate.js";
import { loadSendStatus, type SendProgress } from "../../src/sending/status.js";
import { throttlePolicy } from "../../src/sending/throttle-policy.js";
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
 * A relay that takes at most `limit` messages in any one second and answers Amazon SES's 454 to
 * the rest, against two workers sharing SEND_RATE 200: the workers find the relay's pace together.
 * Every figure asserted is about what the relay accepted and when (the limiter's doing), not about
 * how fast this machine is: the relay's limit is a fifth of SEND_RATE.
 */
const limit = 40;
const sendRate = 200;
// 25 s at the relay's pace: about ten rounds of lowering and raising the rate (one every 2.5 s),
// and a second half long enough that the last retries (a throttled reader goes again after 1 s)
// weigh little in its rate. 1,600 readers took twice as long and showed nothing more.
const readers = 1000;
const throttleAnswer = "Throttling failure: Maximum sending rate exceeded.";

const database = await createTestDatabase();
let smtp: SmtpCapture;
let pipe: Pipeline;
let redis: Redis;
let throttled = 0;

beforeAll(async () => {
  const window: number[] = [];
  smtp = await startSmtpCapture({
    onData() {
      const now = Date.now();
      while (window.length > 0 && (window[0] ?? 0) <= now - 1000) window.shift();
      if (window.length >= limit) {
        throttled++;
        return { code: 454, message: throttleAnswer };
      }
      window.push(now);
      return undefined;
    },
  });
  pipe = await pipeline(database, smtp.url);
  redis = new Redis(pipe.redisUrl);
  await addReaders(database, readers);
  // A backoff as long as the default's (60 s) would be: a throttled reader must not wait for it.
  // The harness's 2 s lease (made for the crash tests) is too short for this test's subject: on a
  // loaded machine one late renewal hands a claimed row to the other worker, a re-send counted as
  // ambiguous that is correct but not what is asserted here. The default lease is 120 s.
  for (let i = 0; i < 2; i++) await pipe.startWorker({ sendRate, retryBaseSeconds: 60, leaseSeconds: 30 });
});
afterAll(async () => {
  await pipe.close();
  redis.disconnect();
  await smtp.close();
});

/** One read of the shared rate: SEND_RATE while Redis holds no lowered rate. */
interface RateSample {
  rate: number;
  /** Local clock before the read was sent and after its answer came. */
  askedAt: number;
  readBy: number;
}

/** Reads the shared rate from Redis every 50 ms until stopped. */
function sampleSharedRate(): { samples: Promise<RateSample[]>; stop(): void } {
  let running = true;
  const samples = (async () => {
    const all: RateSample[] = [];
    while (running) {
      const askedAt = Date.now();
      const stored = await redis.hget(relayRateKey(pipe.prefix), "rate");
      all.push({ rate: stored === null ? sendRate : Number(stored), askedAt, readBy: Date.now() });
      await new Promise((r) => setTimeout(r, 50));
    }
    return all;
  })();
  return {
    samples,
    stop: () => {
      running = false;
    },
  };
}

describe("relay throttling", () => {
  it("all workers slow to the relay's rate together: every reader gets one copy, few answers are throttled, and status names the lowered rate", async () => {
    const issueId = await storeIssue(database);
    const { sendId } = await startSend(pipe.plan, { issueId });
    const rateLimit = relayRate(redis, pipe.prefix, sendRate).view;
    const seen: SendProgress[] = [];
    const sampling = sampleSharedRate();
    try {
      await waitUntil(
        async () => {
          seen.push(await loadSendStatus(database, sendId, { sendRate, rateLimit }));
          return (await sendStatusOf(database, sendId)) === "done";
        },
        120_000,
        "the send to finish",
      );
    } finally {
      sampling.stop();
    }
    const samples = await sampling.samples;

    const rows = await deliveryRows(database, sendId);
    expect(rows.filter((r) => r.status === "sent")).toHaveLength(readers);
    const copies = new Map<string, number>();
    for (const m of smtp.messages) for (const to of m.to) copies.set(to, (copies.get(to) ?? 0) + 1);
    expect(copies.size).toBe(readers);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);

    // The accepted rate over the second half of the send, from the relay's own clock.
    const times = smtp.messages.map((m) => m.receivedAt).sort((a, b) => a - b);
    const first = times[0] ?? 0;
    const last = times.at(-1) ?? 0;
    const middle = (first + last) / 2;
    const secondHalf = times.filter((t) => t >= middle).length / ((last - middle) / 1000);
    const figures = `accepted ${secondHalf.toFixed(1)}/s over the second half, ${throttled} throttled answers`;
    expect(secondHalf, figures).toBeGreaterThan(limit * 0.7);
    expect(secondHalf, figures).toBeLessThan(limit * 1.3);
    expect(throttled, figures).toBeLessThan(readers * 0.2);

    // The rate all workers share, as Redis held it: never above SEND_RATE, lowered at once by at
    // least the policy's factor and raised back by one step of a tenth of SEND_RATE at a time.
    // Moves are at least the hold apart, so two reads closer than that see at most one move.
    expect(Math.max(...samples.map((s) => s.rate)), figures).toBeLessThanOrEqual(sendRate);
    const moves = samples.slice(1).flatMap((after, i) => {
      const before = samples[i] as RateSample;
      return after.rate !== before.rate && after.readBy - before.askedAt < throttlePolicy.holdMs
        ? [{ from: before.rate, to: after.rate }]
        : [];
    });
    const lowered = moves.filter((m) => m.to < m.from);
    const raised = moves.filter((m) => m.to > m.from);
    const shape = `${figures}; moves seen: ${moves.map((m) => `${m.from}->${m.to}`).join(", ")}`;
    // The first one from SEND_RATE down to the relay's pace, and again after a step too far up.
    expect(lowered.length, shape).toBeGreaterThanOrEqual(2);
    expect(raised.length, shape).toBeGreaterThanOrEqual(1);
    // Rates are kept in hundredths (and 30.6 × 0.7 is 21.419999999999998 in floating point).
    for (const m of lowered) expect(m.to, shape).toBeLessThanOrEqual(m.from * throttlePolicy.decrease + 0.01);
    const step = sendRate * throttlePolicy.raiseShare;
    for (const m of raised) expect(m.to, shape).toBeCloseTo(Math.min(sendRate, m.from + step), 6);

    // While the relay's limit holds, status shows the lowered rate in force, near that limit.
    const shown = seen.find((s) => (s.rateLimit?.inForce ?? sendRate) <= limit * 1.5);
    expect(shown?.rateLimit).toMatchObject({
      configured: sendRate,
      reason: expect.stringContaining(`454 ${throttleAnswer}`),
    });
  }, 150_000);
});
