import { describe, expect, it } from "vitest";
import { type ConfigError, loadConfig } from "../../src/config.js";

const keys = ["trackClicks", "trackOpens", "trackingRetentionDays"] as const;

describe("the tracking settings", () => {
  it("are off, off and 90 days when unset", () => {
    expect(loadConfig(keys, {})).toEqual({
      trackClicks: false,
      trackOpens: false,
      trackingRetentionDays: 90,
    });
  });

  it("take the usual spellings of on and off", () => {
    for (const on of ["true", "TRUE", "yes", "on", "1"])
      expect(loadConfig(keys, { TRACK_CLICKS: on, TRACK_OPENS: on }).trackClicks).toBe(true);
    for (const off of ["false", "No", "off", "0"])
      expect(loadConfig(keys, { TRACK_CLICKS: off }).trackClicks).toBe(false);
  });

  it("refuse anything else, naming every bad one at once", () => {
    let problems: string[] = [];
    try {
      loadConfig(keys, { TRACK_CLICKS: "sometimes", TRACK_OPENS: "2", TRACKING_RETENTION_DAYS: "-3" });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems.map((p) => p.split(" ")[0])).toEqual([
      "TRACK_CLICKS",
      "TRACK_OPENS",
      "TRACKING_RETENTION_DAYS",
    ]);
  });
});
