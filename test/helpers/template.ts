import postgres from "postgres";
import { openDatabase } from "../../src/db/connect.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { databasePattern } from "./run.js";

const postgresUrl = () => process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * The run's migrated template: `digest_test_<run>_template`. Its name carries the run's id, like
 * every test database, so the end of the run removes it even if the run is killed mid-way.
 */
export const templateName = (run: string) => `${databasePattern(run)}template`;

/**
 * Creates and migrates the run's template database once, so each test file gets its schema with
 * one `CREATE DATABASE … TEMPLATE` (a file copy, a fraction of a second) instead of replaying every
 * migration. PostgreSQL copies a template only while nobody is connected to it, so every connection
 * is closed after migrating and new ones are refused from then on.
 */
export async function createTemplateDatabase(run: string): Promise<string> {
  const name = templateName(run);
  const admin = postgres(postgresUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
    const url = new URL(postgresUrl());
    url.pathname = `/${name}`;
    const database = await openDatabase({ url: url.toString() });
    try {
      await migrateDatabase(database);
    } finally {
      await database.close();
    }
    await admin.unsafe(`alter database ${name} allow_connections false`);
    return name;
  } finally {
    await admin.end();
  }
}

/** Drops the run's template database, if it is there. */
export async function dropTemplateDatabase(run: string): Promise<void> {
  const admin = postgres(postgresUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${templateName(run)} with (force)`);
  } finally {
    await admin.end();
  }
}
