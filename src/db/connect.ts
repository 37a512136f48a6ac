import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { embeddedDataDir } from "../config.js";
import { DigestError } from "../errors.js";
import { type Database, type Db, query } from "./database.js";
import * as schema from "./schema.js";

export type DatabaseTarget = { url: string } | { dataDir: string } | { memory: true };

/** What DATABASE_URL names: that server, or embedded PGlite in ./.data/pg when it is unset. */
export function databaseTarget(databaseUrl: string | undefined, cwd = process.cwd()): DatabaseTarget {
  return databaseUrl ? { url: databaseUrl } : { dataDir: embeddedDataDir(cwd) };
}

/** Opens the database the settings name: a server when DATABASE_URL is set, else embedded PGlite. */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if ("url" in target) return openPostgres(target.url);
  return openPglite("dataDir" in target ? target.dataDir : undefined);
}

async function openPostgres(url: string): Promise<Database> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const client = postgres(url, { max: 10, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzle({ client, schema }) as unknown as Db;
  return {
    db,
    kind: "postgres",
    url,
    query: (statement) => query(db, statement),
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  const release = dataDir ? lockDataDir(dataDir) : () => {};
  try {
    const { PGlite } = await import("@electric-sql/pglite");
    const { drizzle } = await import("drizzle-orm/pglite");
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const client = new PGlite(dataDir);
    await client.waitReady;
    const db = drizzle({ client, schema }) as unknown as Db;
    return {
      db,
      kind: "pglite",
      query: (statement) => query(db, statement),
      close: async () => {
        await client.close();
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * PGlite is one process's database: a second process opening the same folder would corrupt it.
 * A pid file next to the data says who holds it; a stale one (dead pid) is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockFile = join(dirname(dataDir), `${dataDir.split(/[\\/]/).pop()}.lock`);
  mkdirSync(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, "wx");
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(lockFile, "utf8").trim());
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new DigestError(
          "unavailable",
          `the embedded database in ${dataDir} is in use by process ${holder}. ` +
            "Embedded PGlite serves one process at a time: stop that process, or set DATABASE_URL " +
            "to a PostgreSQL server to run serve, worker and the CLI side by side.",
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new DigestError("unavailable", `cannot lock the embedded database in ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
