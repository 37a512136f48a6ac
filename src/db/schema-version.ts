import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { DigestError } from "../errors.js";
import { migrationsFolder } from "../paths.js";
import type { Database } from "./database.js";

/**
 * serve and worker refuse an unmigrated or older database at start: otherwise they run, and every
 * page answers 500 with `relation "issues" does not exist`. Drizzle's migrator records each applied
 * migration's folder time; the newest one this build ships must be among them.
 */
export class SchemaOutOfDate extends DigestError {
  override readonly name = "SchemaOutOfDate";
}

export function latestMigration(folder = migrationsFolder): { tag: string; when: number } {
  const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8")) as {
    entries: { tag: string; when: number }[];
  };
  const last = journal.entries.at(-1);
  if (!last) throw new Error(`no migrations in ${folder}`);
  return last;
}

export async function checkSchemaVersion(database: Database, folder = migrationsFolder): Promise<void> {
  const needed = latestMigration(folder);
  const [table] = await database.query<{ present: boolean }>(
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  if (!table?.present)
    throw new SchemaOutOfDate(
      "invalid",
      "the database has no tables yet: run `digest migrate` first (with the same DATABASE_URL)",
    );
  const [row] = await database.query<{ last: number | null }>(
    sql`select max(created_at)::float8 as last from drizzle.__drizzle_migrations`,
  );
  if ((row?.last ?? 0) < needed.when)
    throw new SchemaOutOfDate(
      "invalid",
      `the database is older than this version of digest (it lacks migration ${needed.tag}): ` +
        "run `digest migrate`, then start again",
    );
}
