import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { complaintWarning, judgeBreakers } from "../../src/sending/breakers.js";

/** The breakers as pure policy over counts (SPEC §6 "Guardrails"), with tiny inputs. */
const settings = { complaintPauseRate: 0.003, bouncePauseRate: 0.05 };
const counts = (sent: number, complaints: number, hardBounces = 0) => ({ sent, complaints, hardBounces });

describe("the circuit breakers", () => {
  it("trip nothing before 100 messages were sent, whatever the rate", () => {
    expect(judgeBreakers(counts(99, 5, 50), settings, null)).toBeNull();
  });

  it("trip at the complaint rate or the hard-bounce rate, from 100 sent", () => {
    expect(judgeBreakers(counts(1000, 3), settings, null)?.breaker).toBe("complaints");
    expect(judgeBreakers(counts(1000, 2), settings, null)).toBeNull();
    expect(judgeBreakers(counts(100, 0, 5), settings, null)?.breaker).toBe("hard-bounces");
    expect(judgeBreakers(counts(100, 0, 4), settings, null)).toBeNull();
  });

  it("after a forced resume, trip again only when the rate rises half as much again over what was accepted", () => {
    const accepted = counts(1000, 5);
    // The accepted 0.5 % goes on: no new pause.
    expect(judgeBreakers(counts(2000, 10), settings, accepted)).toBeNull();
    // 0.75 % is a further rise.
    expect(judgeBreakers(counts(2000, 15), settings, accepted)?.reason).toMatch(/further rise/);
    // Nothing new came in: no new pause, even at a high rate.
    expect(judgeBreakers(counts(1000, 5), { ...settings, complaintPauseRate: 0.001 }, accepted)).toBeNull();
  });

  it("after a forced resume of a low accepted rate, the configured rate still holds", () => {
    const accepted = counts(1000, 1, 60);
    expect(judgeBreakers(counts(2000, 6, 120), settings, accepted)?.breaker).toBe("complaints");
  });

  it("warn from 0.1 % complaints without pausing", () => {
    expect(complaintWarning(counts(2000, 2))).toMatch(/^complaints at 0\.1 % of sent \(2 of 2000\)/);
    expect(complaintWarning(counts(2000, 1))).toBeNull();
  });
});

describe("COMPLAINT_PAUSE_RATE and BOUNCE_PAUSE_RATE", () => {
  it("default to 0.003 and 0.05", () => {
    expect(loadConfig(["complaintPauseRate", "bouncePauseRate"], {})).toEqual({
      complaintPauseRate: 0.003,
      bouncePauseRate: 0.05,
    });
  });

  it("refuse 0, more than 1 and words, naming each setting at once", () => {
    expect(() =>
      loadConfig(["complaintPauseRate", "bouncePauseRate"], {
        COMPLAINT_PAUSE_RATE: "0",
        BOUNCE_PAUSE_RATE: "5",
      }),
    ).toThrow(/COMPLAINT_PAUSE_RATE[\s\S]*BOUNCE_PAUSE_RATE/);
    expect(() => loadConfig(["complaintPauseRate"], { COMPLAINT_PAUSE_RATE: "lots" })).toThrow(
      /COMPLAINT_PAUSE_RATE/,
    );
    expect(loadConfig(["bouncePauseRate"], { BOUNCE_PAUSE_RATE: "1" }).bouncePauseRate).toBe(1);
  });
});
