import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll } from "vitest";
import { openDatabase } from "../../src/db/connect.js";
import type { Database } from "../../src/db/database.js";
import { migrateDatabase } from "../../src/db/migrate.js";

/** The shared PostgreSQL every machine runs; each test file gets its own database in it. */
export const sharedPostgresUrl = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface TestDatabase extends Database {
  url: string;
}

/**
 * Creates a fresh, migrated database for one test file and drops it after the file's tests.
 * Call at the top level of a test file or in beforeAll.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `digest_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(sharedPostgresUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(sharedPostgresUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString() });
  if (options.migrate !== false) await migrateDatabase(database);
  afterAll(async () => {
    await database.close();
    const cleanup = postgres(sharedPostgresUrl, { max: 1, onnotice: () => {} });
    await cleanup.unsafe(`drop database if exists ${name} with (force)`);
    await cleanup.end();
  });
  return { ...database, url: url.toString() };
}

/** An in-memory PGlite database, migrated: the embedded driver, as `digest` uses it without DATABASE_URL. */
export async function createEmbeddedDatabase(): Promise<Database> {
  const database = await openDatabase({ memory: true });
  await migrateDatabase(database);
  afterAll(() => database.close());
  return database;
}
