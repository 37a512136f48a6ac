import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { digestAsync, digestBin, digestUntil, repoRoot } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";

/**
 * A real send asks first, everywhere staff can start one from a terminal. Each `digest` is a whole
 * process start, so runs that do not depend on each other go at the same time: tests marked
 * concurrent each send their own issue and read only their own send.
 */
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

const digest = (args: string[], options: { input?: string } = {}) => digestAsync(args, { env, ...options });

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

  // The two above count every send in the database, so they ran alone; these two start their own.
  it.concurrent("with --yes: sends, and a second send of the issue without --again exits 2", async () => {
    const other = issue("7.2");
    const r = await digest(["send", other, "--yes"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(r.stderr).toContain("3 deliveries planned");
    const again = await digest(["send", other, "--yes"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already has send");
    expect(again.stderr).not.toContain("readers:");
  });

  it.concurrent("says 1 delivery, not 1 deliveries, and asks nothing for a test send", async () => {
    const r = await digest(["send", issue("7.3"), "--test", "me@staff.test"], { input: "" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("1 delivery planned");
  });
});

describe("--at and SEND everywhere", { timeout: 120_000 }, () => {
  it.concurrent("reads a time without offset in TIMEZONE and says it both ways, with no warning", async () => {
    const r = await digest(["send", issue("8.1"), "--at", "2099-06-01 09:00", "--yes"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("scheduled for 2099-06-01 09:00 America/New_York (13:00 UTC)");
    expect(r.stderr).not.toMatch(/warning|0 deliveries/);
    const status = await digest(["status", "vol-8-1"]);
    expect(status.stdout).toContain("scheduled for 2099-06-01 09:00 America/New_York (13:00 UTC)");
    expect(status.stdout).not.toMatch(/error|warning/i);
  });

  it.concurrent("takes an ISO time with its offset as exact, and refuses what is not a time", async () => {
    const [r, bad] = await Promise.all([
      digest(["send", issue("8.2"), "--at", "2099-06-01T09:00:00+02:00", "--yes"]),
      digest(["send", issue("8.3"), "--at", "next tuesday", "--yes"]),
    ]);
    expect(r.stderr).toContain("(07:00 UTC)");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--at "next tuesday" is not a time');
  });

  // Alone, and its first status alone: that one must run within 5 s of the backdating (it says "4x s").
  it("says plainly when no worker has taken work for 30 s", async () => {
    const r = await digest(["send", issue("9.2"), "--yes"]);
    const sendId = r.stdout.trim();
    await database.query(
      sql`update sends set started_at = now() - interval '45 seconds' where id = ${sendId}`,
    );
    const status = await digest(["status", sendId]);
    expect(status.stdout).toMatch(/no worker has taken work for 4\d s: is `digest worker` running/);
    // --follow (no terminal: plain lines) says it too, instead of a bar that never moves. It
    // follows until the send ends, which it never does here: stopped once both lines are out.
    const idle = /no worker has taken work for \d+ s: is `digest worker` running/;
    const progress = /running: sent 0 of 3, 0 deferred, failed 0, 0 msg\/s, time left \?/;
    const [asJson, follow] = await Promise.all([
      digest(["status", sendId, "--json"]),
      digestUntil(["status", sendId, "--follow"], (stderr) => idle.test(stderr) && progress.test(stderr), {
        env,
        timeoutMs: 15_000,
      }),
    ]);
    const json = JSON.parse(asJson.stdout);
    expect(json).toMatchObject({ queued: 3, sent: 0, ambiguous: 0, rate: 0, secondsLeft: null, reasons: [] });
    expect(json.idleSeconds).toBeGreaterThanOrEqual(45);
    expect(follow.stderr).toMatch(idle);
    expect(follow.stderr).toMatch(progress);
  });

  // Last and alone: without SEND, status and cancel take the latest send, which must be this one.
  it("pauses, resumes and cancels by issue slug, and status shows the latest send without SEND", async () => {
    const [r, unknown] = await Promise.all([
      digest(["send", issue("9.1"), "--yes"]),
      digest(["pause", "vol-404"]),
    ]);
    const sendId = r.stdout.trim();
    expect((await digest(["pause", "vol-9-1"])).stdout).toBe(`${sendId} paused\n`);
    expect((await digest(["resume", "vol-9-1"])).stdout).toBe(`${sendId} running\n`);
    const latest = JSON.parse((await digest(["status", "--json"])).stdout);
    expect(latest.sendId).toBe(sendId);
    expect((await digest(["cancel"])).stdout).toBe(`${sendId} cancelled, 3 deliveries skipped\n`);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"vol-404" is neither a send id nor a stored issue');
  });
});
