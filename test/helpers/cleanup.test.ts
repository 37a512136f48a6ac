import { spawnSync } from "node:child_process";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./cli.js";
import { createTestDatabase, sharedPostgresUrl } from "./db.js";
import { sharedRedisUrl } from "./redis.js";
import { databasePattern, newRunId, prefixPattern } from "./run.js";
import { findLeftovers, sweepRun } from "./sweep.js";

async function databaseExists(name: string): Promise<boolean> {
  const sql = postgres(sharedPostgresUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`;
    return rows.length > 0;
  } finally {
    await sql.end();
  }
}

describe("what tests leave on the shared PostgreSQL and Redis", () => {
  let madeInsideATest = "";

  it("a database made inside a test is dropped when that test ends", async () => {
    const database = await createTestDatabase({ migrate: false });
    madeInsideATest = new URL(database.url).pathname.slice(1);
    expect(await databaseExists(madeInsideATest)).toBe(true);
  });

  it("and once that test has ended, its database is gone", async () => {
    expect(madeInsideATest).not.toBe("");
    expect(await databaseExists(madeInsideATest)).toBe(false);
  });

  it("a test process killed before its cleanup still leaves nothing once its run is swept", async () => {
    const run = newRunId();
    // A stand-in for a forked test file that dies mid-test: it makes a database and queue keys of
    // the run, then SIGKILLs itself before any afterAll could run.
    const script = `
      import postgres from "postgres";
      import { Redis } from "ioredis";
      const sql = postgres(${JSON.stringify(sharedPostgresUrl)}, { max: 1 });
      await sql.unsafe("create database ${databasePattern(run)}crashed");
      await sql.end();
      const redis = new Redis(${JSON.stringify(sharedRedisUrl)});
      await redis.set("{${prefixPattern(run)}send-1}:deliveries:meta", "x");
      await redis.hset("{${prefixPattern(run)}send-1}:deliveries:1", "data", "{}");
      process.kill(process.pid, "SIGKILL");
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(child.signal).toBe("SIGKILL");
    expect(await findLeftovers(run)).toEqual({ databases: [`${databasePattern(run)}crashed`], keys: 2 });

    const swept = await sweepRun(run);
    expect(swept).toEqual({
      databases: [`${databasePattern(run)}crashed`],
      keys: 2,
      prefixes: [`{${prefixPattern(run)}send-1}`],
    });
    expect(await findLeftovers(run)).toEqual({ databases: [], keys: 0 });
  });

  it("the sweep of one run never touches another run's databases or keys", async () => {
    const database = await createTestDatabase({ migrate: false });
    const mine = new URL(database.url).pathname.slice(1);
    await sweepRun(newRunId());
    expect(await databaseExists(mine)).toBe(true);
  });
});
