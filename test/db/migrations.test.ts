import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/connect.js";
import type { Database } from "../../src/db/database.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { subscribers } from "../../src/db/schema.js";
import { createEmbeddedDatabase, createTestDatabase } from "../helpers/db.js";

const tables = ["bounces", "deliveries", "issues", "sends", "subscribers", "suppressions"];

async function behavesTheSame(database: Database) {
  const rows = await database.query<{ table_name: string }>(
    sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
  );
  expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(tables));

  const [inserted] = await database.db
    .insert(subscribers)
    .values({ email: "Reader@Example.org", consentSource: "admin" })
    .returning();
  expect(inserted?.status).toBe("pending");
  // Addresses are unique whatever their case.
  await expect(
    database.db.insert(subscribers).values({ email: "reader@example.org", consentSource: "admin" }),
  ).rejects.toThrow();
  // Statuses outside the vocabulary are refused by the database itself.
  await expect(
    database.query(sql`update subscribers set status = 'deleted' where email = 'Reader@Example.org'`),
  ).rejects.toThrow();
  const [count] = await database.query<{ n: number }>(sql`select count(*)::int as n from subscribers`);
  expect(count?.n).toBe(1);
}

describe("migrations", () => {
  it("build the whole schema on a PostgreSQL server", async () => {
    await behavesTheSame(await createTestDatabase());
  });

  it("build the same schema on embedded PGlite", async () => {
    await behavesTheSame(await createEmbeddedDatabase());
  });

  it("can run twice: the second run changes nothing", async () => {
    const database = await createTestDatabase();
    await migrateDatabase(database);
    await behavesTheSame(database);
  });

  it("refuse a second process on the same embedded database folder with a clear message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "digest-pglite-"));
    try {
      const dataDir = join(dir, "pg");
      const first = await openDatabase({ dataDir });
      // The lock is per process; pretend another live process (our parent) holds it.
      const { writeFileSync } = await import("node:fs");
      writeFileSync(join(dir, "pg.lock"), String(process.ppid));
      await expect(openDatabase({ dataDir })).rejects.toThrow(/in use by process/);
      await first.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
