import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { digest, digestBin, digestUntil, repoRoot } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";

/** A real send asks first, everywhere staff can start one from a terminal. */
const database = await createTestDatabase();
const prefix = uniquePrefix("confirm");
afterAll(() => dropPrefix(prefix));
const env = {
  DATABASE_URL: database.url,
  REDIS_URL: sharedRedisUrl,
  QUEUE_PREFIX: prefix,
  SECRET: "a-test-secret-that-is-long-enough-0123456789",
  TIMEZONE: "America/New_York",
};
const work = mkdtempSync(join(tmpdir(), "digest-send-"));
await database.query(sql`insert into subscribers (email, status, consent_source)
  select 'r' || i || '@readers.test', 'active', 'admin' from generate_series(1, 3) as i`);

function issue(volume: string): string {
  const file = join(work, `vol-${volume.replace(/\./g, "-")}.md`);
  writeFileSync(
    file,
    `---\nvolume: "${volume}"\ndate: 2026-11-30\nsubject: News ${volume}\n---\n## A story\n\nText.\n`,
  );
  return file;
}

const count = async (table: "sends" | "deliveries") =>
  (await database.query<{ n: number }>(sql`select count(*)::int as n from ${sql.raw(table)}`))[0]?.n;

describe("digest send asks before a real send", { timeout: 120_000 }, () => {
  const file = issue("7.1");

  it("without a terminal and without --yes: exits 2, names the reader count, sends nothing", async () => {
    // stdin "ignore" is /dev/null: `digest send FILE </dev/null`.
    const r = spawnSync(process.execPath, [digestBin, "send", file], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("3 active readers");
    expect(r.stderr).toContain("--yes");
    expect(r.stdout).toBe("");
    expect(await count("sends")).toBe(0);
    expect(await count("deliveries")).toBe(0);
  });

  it("on a terminal: shows issue, readers and time, and sends only when the count is typed back", async () => {
    const onTerminal = (typed: string) =>
      spawnSync("script", ["-qec", `${process.execPath} ${digestBin} send ${file}`, "/dev/null"], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        input: `${typed}\n`,
        encoding: "utf8",
        timeout: 60_000,
      });
    const wrong = onTerminal("30");
    expect(wrong.stdout).toContain('issue:   vol-7-1 "News 7.1"');
    expect(wrong.stdout).toContain("readers: 3 active readers");
    expect(wrong.stdout).toContain("time:    now");
    expect(wrong.stdout).toContain("Type 3 to send");
    expect(wrong.stdout).toContain("not sent");
    expect(await count("sends")).toBe(0);
    const right = onTerminal("3");
    expect(right.stdout).toContain("3 deliveries planned");
    expect(await count("deliveries")).toBe(3);
  });

  it("with --yes: sends, and a second send of the issue without --again exits 2", async () => {
    const other = issue("7.2");
    const r = digest(["send", other, "--yes"], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(r.stderr).toContain("3 deliveries planned");
    const again = digest(["send", other, "--yes"], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already has send");
    expect(again.stderr).not.toContain("readers:");
  });

  it("says 1 delivery, not 1 deliveries, and asks nothing for a test send", () => {
    const r = digest(["send", issue("7.3"), "--test", "me@staff.test"], { env, input: "" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("1 delivery planned");
  });
});

describe("--at and SEND everywhere", { timeout: 120_000 }, () => {
  it("reads a time without offset in TIMEZONE and says it both ways, with no warning", () => {
    const r = digest(["send", issue("8.1"), "--at", "2099-06-01 09:00", "--yes"], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("scheduled for 2099-06-01 09:00 America/New_York (13:00 UTC)");
    expect(r.stderr).not.toMatch(/warning|0 deliveries/);
    const status = digest(["status", "vol-8-1"], { env });
    expect(status.stdout).toContain("scheduled for 2099-06-01 09:00 America/New_York (13:00 UTC)");
    expect(status.stdout).not.toMatch(/error|warning/i);
  });

  it("takes an ISO time with its offset as exact, and refuses what is not a time", () => {
    const r = digest(["send", issue("8.2"), "--at", "2099-06-01T09:00:00+02:00", "--yes"], { env });
    expect(r.stderr).toContain("(07:00 UTC)");
    const bad = digest(["send", issue("8.3"), "--at", "next tuesday", "--yes"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--at "next tuesday" is not a time');
  });

  it("pauses, resumes and cancels by issue slug, and status shows the latest send without SEND", async () => {
    const r = digest(["send", issue("9.1"), "--yes"], { env });
    const sendId = r.stdout.trim();
    expect(digest(["pause", "vol-9-1"], { env }).stdout).toBe(`${sendId} paused\n`);
    expect(digest(["resume", "vol-9-1"], { env }).stdout).toBe(`${sendId} running\n`);
    const latest = JSON.parse(digest(["status", "--json"], { env }).stdout);
    expect(latest.sendId).toBe(sendId);
    expect(digest(["cancel"], { env }).stdout).toBe(`${sendId} cancelled, 3 deliveries skipped\n`);
    const unknown = digest(["pause", "vol-404"], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"vol-404" is neither a send id nor a stored issue');
  });

  it("says plainly when no worker has taken work for 30 s", async () => {
    const r = digest(["send", issue("9.2"), "--yes"], { env });
    const sendId = r.stdout.trim();
    await database.query(
      sql`update sends set started_at = now() - interval '45 seconds' where id = ${sendId}`,
    );
    const status = digest(["status", sendId], { env });
    expect(status.stdout).toMatch(/no worker has taken work for 4\d s: is `digest worker` running/);
    const json = JSON.parse(digest(["status", sendId, "--json"], { env }).stdout);
    expect(json).toMatchObject({ queued: 3, sent: 0, ambiguous: 0, rate: 0, secondsLeft: null, reasons: [] });
    expect(json.idleSeconds).toBeGreaterThanOrEqual(45);
    // --follow (no terminal: plain lines) says it too, instead of a bar that never moves. It
    // follows until the send ends, which it never does here: stopped once both lines are out.
    const idle = /no worker has taken work for \d+ s: is `digest worker` running/;
    const progress = /running: sent 0 of 3, 0 deferred, failed 0, 0 msg\/s, time left \?/;
    const follow = await digestUntil(
      ["status", sendId, "--follow"],
      (stderr) => idle.test(stderr) && progress.test(stderr),
      { env, timeoutMs: 15_000 },
    );
    expect(follow.stderr).toMatch(idle);
    expect(follow.stderr).toMatch(progress);
  });
});
