import { describe, expect, it } from "vitest";
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
  windowSeconds: 30,
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
    const s = sendingStatus(input({ counts: { sent: 600, queued: 900, deferred: 100 }, recentSent: 300 }));
    expect(s.rate).toBe(10);
    expect(s.etaSeconds).toBe(100);
  });

  it("does not guess a time left for a paused send or when nothing moved", () => {
    expect(
      sendingStatus(input({ sendStatus: "paused", counts: { queued: 5 }, recentSent: 30 })).etaSeconds,
    ).toBeNull();
    expect(sendingStatus(input({ counts: { queued: 5 } })).etaSeconds).toBeNull();
  });

  it("has nothing left when every row is handled, and carries ambiguous through", () => {
    const s = sendingStatus(input({ sendStatus: "done", counts: { sent: 4, bounced: 1 }, ambiguous: 2 }));
    expect(s).toMatchObject({ etaSeconds: 0, ambiguous: 2, total: 5 });
  });
});
