import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { digest } from "../helpers/cli.js";

/** What staff type in an issue's front matter is what they get, and lint says so when it is not. */
const work = mkdtempSync(join(tmpdir(), "digest-exact-"));
const noDatabase = { DATABASE_URL: undefined, SECRET: undefined, REDIS_URL: undefined };

function issueFile(name: string, front: string, body = "## A story\n\nSome text.\n"): string {
  const file = join(work, name);
  writeFileSync(file, `---\n${front}\n---\n${body}`);
  return file;
}

describe("volume and date as written", () => {
  it("keeps volume: 2.10 as Vol 2.10 (vol-2-10.html), never 2.1", () => {
    const file = issueFile("vol-2-10.md", 'volume: 2.10\ndate: 2023-02-28\nsubject: "Vol 2.10: news"');
    const out = join(work, "out-2-10");
    const r = digest(["render", file, "--out", out], { env: noDatabase });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out)).toContain("vol-2-10.html");
    const text = readFileSync(join(out, "vol-2-10.txt"), "utf8");
    expect(text).toContain("Vol 2.10");
    expect(text).not.toMatch(/Vol 2\.1\b/);
    expect(r.stderr).toBe("");
  });

  it("fails lint on 2023-02-30 with the line of the date", () => {
    const file = issueFile("feb.md", "volume: 3\ndate: 2023-02-30\nsubject: Three");
    const r = digest(["lint", file], { env: noDatabase });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${file}:3: error: front matter: date: "2023-02-30" is not a real calendar date`,
    );
  });

  it("accepts a real leap day and an ISO time, keeping the date", () => {
    const file = issueFile("leap.md", "volume: 4\ndate: 2024-02-29T09:00:00Z\nsubject: Four");
    const r = digest(["lint", file], { env: noDatabase });
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("lint warnings on disagreement", () => {
  it("warns when the file name, the subject's volume and volume disagree", () => {
    const file = issueFile("vol-2-10.md", 'volume: 2.9\ndate: 2023-03-01\nsubject: "Vol 2.7: news"');
    const r = digest(["lint", file], { env: noDatabase });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${file}:2: warning: the file is named vol-2-10 but volume is 2.9`);
    expect(r.stderr).toContain(`${file}:4: warning: the subject says "Vol 2.7" but volume is 2.9`);
  });

  it("says nothing when they agree", () => {
    const file = issueFile("vol-5.md", "volume: 5\ndate: 2023-03-01\nsubject: Vol 5 is here");
    const r = digest(["lint", file], { env: noDatabase });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("0 error(s), 0 warning(s)");
  });
});

describe("YAML errors in one line", () => {
  it("names the subject's line and says to quote it when it contains a colon", () => {
    const file = issueFile("colon.md", "volume: 6\ndate: 2023-03-01\nsubject: Budget: what changed");
    const r = digest(["lint", file], { env: noDatabase });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toEqual([
      `${file}:4: error: front matter: the subject contains ": ", which YAML reads as a nested key; ` +
        'put the value in double quotes: subject: "Budget: what changed"',
    ]);
  });
});
