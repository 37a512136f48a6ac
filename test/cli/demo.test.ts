import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { describe, expect, it, onTestFinished } from "vitest";
import { digest } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { pgDump } from "../helpers/pg-dump.js";

describe("digest demo", () => {
  it("runs the whole pipeline in its own sandbox, leaving the database .env names byte-for-byte unchanged", async () => {
    // A folder whose .env names a real database (with a real reader in it) and a real mail server.
    const real = await createTestDatabase();
    await real.query(sql`insert into subscribers (email, status, consent_source, confirmed_at)
      values ('real-reader@example.org', 'active', 'admin', now())`);
    const before = pgDump(real.url);
    const cwd = mkdtempSync(join(tmpdir(), "digest-demo-"));
    onTestFinished(() => rmSync(cwd, { recursive: true, force: true }));
    writeFileSync(
      join(cwd, ".env"),
      [
        `DATABASE_URL=${real.url}`,
        "SMTP_URL=smtp://must-not-be-used.invalid",
        "PUBLIC_URL=https://digest.example.org",
        "QUEUE_PREFIX=production",
        `SECRET=${"s".repeat(40)}`,
        "",
      ].join("\n"),
    );
    // Mail of an earlier run: each run starts from an empty outbox.
    const outbox = join(cwd, ".data", "outbox");
    mkdirSync(outbox, { recursive: true });
    writeFileSync(join(outbox, "earlier-run.eml"), "Subject: old\r\n\r\nold\r\n");

    const r = digest(["demo", "--readers", "40"], {
      cwd,
      env: {
        DATABASE_URL: undefined,
        REDIS_URL: undefined,
        SECRET: undefined,
        PORT: undefined,
        SMTP_URL: undefined,
        PUBLIC_URL: undefined,
        QUEUE_PREFIX: undefined,
      },
    });
    expect(r.stderr).toContain("Summary");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { status: string; total: number; sent: number; bounced: number };
    expect(result).toMatchObject({ status: "done", total: 40, sent: 39, bounced: 1 });
    expect(r.stderr).toMatch(/reader-\d+@example\.com clicked one-click unsubscribe \(HTTP 200\)/);
    expect(r.stderr).toContain("embedded PGlite");
    expect(r.stderr).toMatch(/emptied first \(1 old messages removed\)/);
    // Without --serve nothing is served when the summary is printed, so it shows no web address.
    expect(r.stderr).not.toMatch(/web:\s+http/);

    expect(pgDump(real.url)).toBe(before);

    const files = readdirSync(outbox).filter((f) => f.endsWith(".eml"));
    expect(files).not.toContain("earlier-run.eml");
    // 40 issue messages plus the goodbye mail of the reader who unsubscribed.
    expect(files.length).toBe(41);
    const raws = files.map((f) => readFileSync(join(outbox, f)));
    const issueMail = raws.find((raw) => raw.includes("Vol 2.6"));
    expect(issueMail!.toString()).toMatch(/^Return-Path: <bounces\+[a-z2-7]+@[^>]+>\r\n/);
    const mail = await simpleParser(issueMail!);
    expect(mail.subject).toContain("US-Japan Alliance Digest Vol 2.6");
    expect(mail.html).toContain("The Philippines getting US-Japan help to contain oil spill");
    expect(mail.html).not.toContain("https://digest.example.org");
    expect(issueMail!.toString()).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
  }, 180_000);
});
