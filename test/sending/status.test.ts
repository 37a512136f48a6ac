import { describe, expect, it } from "vitest";
import { statusText } from "../../src/cli/status-text.js";
import { type StatusInput, sendingStatus } from "../../src/sending/status.js";

/** Progress is a pure function of row counts (tiny builders, no database). */
const input = (over: Partial<StatusInput> = {}): StatusInput => ({
  sendId: "s",
  issueSlug: "vol-2-6",
  sendStatus: "running",
  isTest: false,
  pausedReason: null,
  counts: {},
  ambiguous: 0,
  recentSent: 0,
  windowSeconds: 10,
  ...over,
});

describe("sending status", () => {
  it("has one key per delivery status, zero when no row has it, and the total", () => {
    const s = sendingStatus(input({ counts: { sent: 3, queued: 2 } }));
    expect(s).toMatchObject({
      queued: 2,
      sending: 0,
      sent: 3,
      deferred: 0,
      failed: 0,
      bounced: 0,
      skipped: 0,
      total: 5,
    });
  });

  it("derives the rate from recent sends and the time left from what remains", () => {
    const s = sendingStatus(input({ counts: { sent: 600, queued: 900, deferred: 100 }, recentSent: 100 }));
    expect(s.rate).toBe(10);
    expect(s.secondsLeft).toBe(100);
  });

  it("does not guess a time left for a paused send or when nothing moved", () => {
    expect(
      sendingStatus(input({ sendStatus: "paused", counts: { queued: 5 }, recentSent: 10 })).secondsLeft,
    ).toBeNull();
    expect(sendingStatus(input({ counts: { queued: 5 } })).secondsLeft).toBeNull();
  });

  it("never assumes a pace above SEND_RATE, and waits for deferred rows' next attempt", () => {
    const capped = sendingStatus(input({ counts: { queued: 1000 }, recentSent: 1000, sendRateCap: 50 }));
    expect(capped.rate).toBe(100);
    expect(capped.secondsLeft).toBe(20);
    const waiting = sendingStatus(
      input({ counts: { deferred: 10 }, recentSent: 100, deferredWaitSeconds: 300 }),
    );
    expect(waiting.secondsLeft).toBe(300);
  });

  it("has no time left to guess for a scheduled send", () => {
    expect(sendingStatus(input({ sendStatus: "scheduled" })).secondsLeft).toBeNull();
  });

  it("has nothing left when every row is handled, and carries ambiguous through", () => {
    const s = sendingStatus(input({ sendStatus: "done", counts: { sent: 4, bounced: 1 }, ambiguous: 2 }));
    expect(s).toMatchObject({ secondsLeft: 0, ambiguous: 2, total: 5 });
  });
});

describe("reasons", () => {
  it("groups answers into kinds staff can act on, the same in SQL and in JS", async () => {
    const { reasonOf } = await import("../../src/sending/reasons.js");
    expect(reasonOf("connect ECONNREFUSED 127.0.0.1:2525")).toBe("connection refused");
    expect(reasonOf("450 4.2.0 <a@b.c>: Recipient address rejected: Greylisted, try again later")).toBe(
      "4xx greylisting",
    );
    expect(reasonOf("421 4.7.0 Too many connections, slow down")).toBe("4xx rate limited");
    expect(reasonOf("550 5.7.1 Message rejected under policy")).toBe("5.7.x policy or authentication");
    expect(reasonOf("gave up after retries: connect ECONNREFUSED 10.0.0.1:25")).toBe(
      "gave up after retries (connection refused)",
    );
    expect(reasonOf("something odd")).toBe("other");
  });
});

describe("the shared rate in status", () => {
  const lowered = {
    inForce: 36,
    configured: 200,
    reason: "relay throttling: 454 Throttling failure: Maximum sending rate exceeded.",
  };

  it("keeps every key and adds rateLimit: the rate in force, SEND_RATE and why", () => {
    const s = sendingStatus(input({ rateLimit: lowered }));
    for (const key of ["rate", "secondsLeft", "pausedReason", "reasons", "ambiguous"])
      expect(s).toHaveProperty(key);
    expect(s.rateLimit).toEqual(lowered);
    expect(sendingStatus(input()).rateLimit).toBeNull();
  });

  it("says in text why the rate is below SEND_RATE, and nothing while SEND_RATE is in force", () => {
    const text = statusText(sendingStatus(input({ rateLimit: lowered })), "UTC");
    expect(text).toContain("rate limit 36 msg/s of SEND_RATE 200: relay throttling: 454 Throttling failure");
    const plain = statusText(
      sendingStatus(input({ rateLimit: { ...lowered, inForce: 200, reason: null } })),
      "UTC",
    );
    expect(plain).not.toContain("rate limit");
  });
});
