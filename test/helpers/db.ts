import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { onTestFinished } from "vitest";
import { openDatabase } from "../../src/db/connect.js";
import type { Database } from "../../src/db/database.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { pending } from "./cleanups.js";
import { databasePattern, testRunId, testTemplate } from "./run.js";

/** The shared PostgreSQL every machine runs; each test file gets its own database in it. */
export const sharedPostgresUrl = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface TestDatabase extends Database {
  url: string;
}

/** Runs `cleanup` when the current test ends, or at the end of the file when called outside a test. */
function whenDone(cleanup: () => Promise<void>): void {
  const once = async () => {
    if (pending.delete(once)) await cleanup();
  };
  pending.add(once);
  try {
    onTestFinished(once);
  } catch {
    // Not inside a test (top level or beforeAll): the file-end hook (cleanups.ts) runs it.
  }
}

/**
 * Creates a fresh, migrated database and drops it after the current test, or after the file's
 * tests when called at the top level or in beforeAll. Its name carries the run's id, so the end of
 * the run drops it even if this process dies first (test/global-setup.ts). A migrated one is a copy
 * of the run's template, migrated once for all files; `migrate: false` gives an empty one.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `${databasePattern(testRunId())}${randomBytes(5).toString("hex")}`;
  const template = options.migrate === false ? undefined : testTemplate();
  const admin = postgres(sharedPostgresUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(template ? `create database ${name} template ${template}` : `create database ${name}`);
  await admin.end();
  const url = new URL(sharedPostgresUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString() });
  if (options.migrate !== false && !template) await migrateDatabase(database);
  whenDone(async () => {
    try {
      await database.close();
    } finally {
      const cleanup = postgres(sharedPostgresUrl, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    }
  });
  return { ...database, url: url.toString() };
}

/** An in-memory PGlite database, migrated: the embedded driver, as `digest` uses it without DATABASE_URL. */
export async function createEmbeddedDatabase(): Promise<Database> {
  const database = await openDatabase({ memory: true });
  await migrateDatabase(database);
  whenDone(() => database.close());
  return database;
}
