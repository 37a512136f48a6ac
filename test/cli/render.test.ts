import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { digest, repoRoot } from "../helpers/cli.js";
import { pdfText, squash } from "../issues/pdf-reader.js";

const work = mkdtempSync(join(tmpdir(), "digest-render-"));
const noDatabase = {
  DATABASE_URL: undefined,
  SECRET: undefined,
  REDIS_URL: undefined,
  SEND_RATE: "not-a-number",
};

describe("digest render", () => {
  it("writes exactly one html, txt, eml and pdf for the example issue, needing no database or secret", async () => {
    const out = join(work, "out");
    const r = digest(["render", "examples/issues/vol-2-6.md", "--out", out], { env: noDatabase });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["vol-2-6.eml", "vol-2-6.html", "vol-2-6.pdf", "vol-2-6.txt"]);
    const mail = await simpleParser(readFileSync(join(out, "vol-2-6.eml")));
    expect(mail.headers.get("content-type")).toMatchObject({ value: "multipart/alternative" });
    expect(mail.text).toContain("The Philippines getting US-Japan help to contain oil spill");
    expect(r.stdout).toMatch(/vol-2-6\.html +\d+\.\d KB/);
    expect(r.stdout).toMatch(/vol-2-6\.pdf +\d+\.\d KB/);
    const pdf = readFileSync(join(out, "vol-2-6.pdf"));
    expect(squash(pdfText(pdf))).toContain(squash("US and Japan sign deal on critical minerals"));
  });

  it("renders the PDF from the compiled package, finding its fonts from any working folder", () => {
    const out = join(work, "elsewhere");
    const issue = join(repoRoot, "test/issues/fixtures/vol-9-1.md");
    const r = digest(["render", issue, "--out", out, "--newsletter", join(repoRoot, "newsletter.yaml")], {
      env: noDatabase,
      cwd: work,
    });
    expect(r.code).toBe(0);
    expect(squash(pdfText(readFileSync(join(out, "vol-9-1.pdf"))))).toContain("日米同盟は、インド太平洋地域");
    // Without `pdf:` in the front matter, the email's download button points to the PDF edition.
    expect(readFileSync(join(out, "vol-9-1.html"), "utf8")).toContain("/archive/vol-9-1.pdf");
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

  it("warns about link text that does not say where it leads, and still exits 0", () => {
    const file = join(work, "vague-links.md");
    writeFileSync(
      file,
      "---\nvolume: 1\ndate: 2024-01-05\nsubject: Hi\n---\n## One\n\nThe statement is [here](https://example.org/s); see https://example.org/t.\n",
    );
    const r = digest(["lint", file], { env: noDatabase });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${file}:8: warning: link text "here" does not say where it leads`);
    expect(r.stderr).toContain(`${file}:8: warning: link text "https://example.org/t" is a bare URL`);
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
