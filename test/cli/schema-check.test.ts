import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { migrateDatabase } from "../../src/db/migrate.js";
import { digest } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { freePort } from "../helpers/smtp.js";

/** serve and worker refuse to start on a database `digest migrate` has not brought up to date. */
const database = await createTestDatabase({ migrate: false });
const env = async () => ({
  DATABASE_URL: database.url,
  SECRET: "a-test-secret-that-is-long-enough-0123456789",
  SMTP_URL: "smtp://127.0.0.1:1",
  PORT: String(await freePort()),
  INBOUND_SMTP_PORT: String(await freePort()),
  QUEUE_PREFIX: "test-schema-check",
  LOG_LEVEL: "silent",
});

describe("the schema check at start", { timeout: 120_000 }, () => {
  it("stops serve and worker on an unmigrated database, naming digest migrate (exit 2)", async () => {
    for (const command of ["serve", "worker"]) {
      const r = digest([command], { env: await env() });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("the database has no tables yet: run `digest migrate` first");
    }
  });

  it("stops them on a database older than this version", async () => {
    await migrateDatabase(database);
    await database.query(
      sql`delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)`,
    );
    const r = digest(["worker"], { env: await env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /the database is older than this version of digest \(it lacks migration \S+\): run `digest migrate`/,
    );
  });
});

describe("digest --version", () => {
  it("prints the package version", async () => {
    const { version } = JSON.parse(
      (await import("node:fs")).readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    const r = digest(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });
});
