import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { digest } from "../helpers/cli.js";

const work = mkdtempSync(join(tmpdir(), "digest-render-"));
const noDatabase = {
  DATABASE_URL: undefined,
  SECRET: undefined,
  REDIS_URL: undefined,
  SEND_RATE: "not-a-number",
};

describe("digest render", () => {
  it("writes exactly one html, txt and eml for the example issue, needing no database or secret", async () => {
    const out = join(work, "out");
    const r = digest(["render", "examples/issues/vol-2-6.md", "--out", out], { env: noDatabase });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["vol-2-6.eml", "vol-2-6.html", "vol-2-6.txt"]);
    const mail = await simpleParser(readFileSync(join(out, "vol-2-6.eml")));
    expect(mail.headers.get("content-type")).toMatchObject({ value: "multipart/alternative" });
    expect(mail.text).toContain("The Philippines getting US-Japan help to contain oil spill");
    expect(r.stdout).toMatch(/vol-2-6\.html +\d+\.\d KB/);
  });

  it("refuses a malformed issue with the file and line, and writes nothing", () => {
    const file = join(work, "bad.md");
    writeFileSync(
      file,
      "---\nvolume: 1\ndate: 2024-01-01\nsubject: Hi\n---\n## Story\n\n[x](javascript:alert(1))\n",
    );
    const out = join(work, "bad-out");
    const r = digest(["render", file, "--out", out], { env: noDatabase });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${file}:8: error: link "javascript:alert(1)"`);
    expect(() => readdirSync(out)).toThrow();
  });

  it("names a missing file instead of crashing", () => {
    const r = digest(["render", join(work, "nope.md")], { env: noDatabase });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/nope\.md: cannot read the issue file/);
  });
});

describe("digest lint", () => {
  it("passes the example issue", () => {
    const r = digest(["lint", "examples/issues/vol-2-6.md"], { env: noDatabase });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("0 error(s)");
  });

  it("exits 1 and lists every problem of a bad issue", () => {
    const file = join(work, "bad-lint.md");
    writeFileSync(file, "---\nvolume: 1\nsubject: Hi\nextra: 1\n---\n## One\n\n## Two\n\ntext <b>x</b>\n");
    const r = digest(["lint", file], { env: noDatabase });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:1: error: front matter: "date" is required`);
    expect(r.stderr).toContain(`${file}:4: warning: unknown front matter key "extra"`);
    expect(r.stderr).toContain(`${file}:6: error: story "One" has no text`);
  });
});
