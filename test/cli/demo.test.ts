import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { digest } from "../helpers/cli.js";

describe("digest demo", () => {
  it("runs the whole pipeline on embedded defaults and leaves .eml files a mail client opens", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "digest-demo-"));
    const r = digest(["demo", "--readers", "40"], {
      cwd,
      env: {
        DATABASE_URL: undefined,
        REDIS_URL: undefined,
        SECRET: undefined,
        PORT: undefined,
        SMTP_URL: "smtp://must-not-be-used.invalid",
      },
    });
    expect(r.stderr).toContain("Summary");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { status: string; total: number; sent: number; bounced: number };
    expect(result).toMatchObject({ status: "done", total: 40, sent: 39, bounced: 1 });
    expect(r.stderr).toMatch(/reader-\d+@example\.com clicked one-click unsubscribe \(HTTP 200\)/);

    const outbox = join(cwd, ".data", "outbox");
    const files = readdirSync(outbox).filter((f) => f.endsWith(".eml"));
    // 40 issue messages plus the goodbye mail of the reader who unsubscribed.
    expect(files.length).toBe(41);
    const issueMail = files.map((f) => readFileSync(join(outbox, f))).find((raw) => raw.includes("Vol 2.6"));
    const mail = await simpleParser(issueMail!);
    expect(mail.subject).toContain("US-Japan Alliance Digest Vol 2.6");
    expect(mail.html).toContain("The Philippines getting US-Japan help to contain oil spill");
    expect(issueMail!.toString()).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
  }, 180_000);
});
