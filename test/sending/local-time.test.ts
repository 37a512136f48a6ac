import { describe, expect, it } from "vitest";
import { describeTime, parseSendTime } from "../../src/sending/local-time.js";

/** `--at` as staff type it, and scheduled times as staff read them. */
describe("send times", () => {
  it("reads a wall-clock time in TIMEZONE, on both sides of a DST change", () => {
    expect(parseSendTime("2026-11-30 09:00", "America/New_York").toISOString()).toBe(
      "2026-11-30T14:00:00.000Z",
    );
    expect(parseSendTime("2026-07-01T09:00", "America/New_York").toISOString()).toBe(
      "2026-07-01T13:00:00.000Z",
    );
    expect(parseSendTime("2026-07-01 09:00", "UTC").toISOString()).toBe("2026-07-01T09:00:00.000Z");
  });

  it("takes an offset as exact and refuses times that do not exist", () => {
    expect(parseSendTime("2026-07-01T09:00:00+02:00", "America/New_York").toISOString()).toBe(
      "2026-07-01T07:00:00.000Z",
    );
    expect(() => parseSendTime("2026-03-08 02:30", "America/New_York")).toThrow(/does not exist/);
    expect(() => parseSendTime("2026-02-30 09:00", "UTC")).toThrow(/not a real date/);
    expect(() => parseSendTime("tomorrow 9", "UTC")).toThrow(/is not a time/);
  });

  it('says "09:00 America/New_York (14:00 UTC)", with the date when it is not today there', () => {
    const at = new Date("2026-11-30T14:00:00Z");
    expect(describeTime(at, "America/New_York", new Date("2026-11-30T12:00:00Z"))).toBe(
      "09:00 America/New_York (14:00 UTC)",
    );
    expect(describeTime(at, "America/New_York", new Date("2026-11-29T12:00:00Z"))).toBe(
      "2026-11-30 09:00 America/New_York (14:00 UTC)",
    );
    expect(describeTime(at, "UTC", new Date("2026-11-30T12:00:00Z"))).toBe("14:00 UTC");
  });
});
