import { Redis } from "ioredis";
import postgres from "postgres";
import { databasePattern, prefixPattern } from "./run.js";

/** What a test run left on the shared services. */
export interface Leftovers {
  databases: string[];
  keys: number;
  /** The queue prefixes those keys were under: which test files left them. */
  prefixes?: string[];
}

const postgresUrl = () => process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const redisUrl = () => process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A client that fails at once when Redis is not there, instead of reconnecting for ever. */
function openRedis(): Redis {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on("error", () => {}); // the command that needed the connection fails and says why
  return redis;
}

async function scanKeys(redis: Redis, pattern: string, each: (keys: string[]) => Promise<unknown>) {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await each(keys);
  } while (cursor !== "0");
}

/** The databases and Redis keys of one run that are still there. */
export async function findLeftovers(run: string): Promise<Leftovers> {
  const sql = postgres(postgresUrl(), { max: 1, onnotice: () => {} });
  const redis = openRedis();
  try {
    const rows = await sql<{ datname: string }[]>`
      select datname from pg_database where starts_with(datname, ${databasePattern(run)}) order by datname`;
    let keys = 0;
    await scanKeys(redis, `*${prefixPattern(run)}*`, async (found) => {
      keys += found.length;
    });
    return { databases: rows.map((r) => r.datname), keys };
  } finally {
    await sql.end();
    redis.disconnect();
  }
}

/**
 * Drops every database and deletes every Redis key of one run. Test files clean up after
 * themselves; this catches what a crashed or killed test process could not, and keys that a child
 * worker process wrote after its test had cleaned up.
 */
export async function sweepRun(run: string): Promise<Leftovers> {
  const sql = postgres(postgresUrl(), { max: 1, onnotice: () => {} });
  const redis = openRedis();
  try {
    const rows = await sql<{ datname: string }[]>`
      select datname from pg_database where starts_with(datname, ${databasePattern(run)}) order by datname`;
    for (const { datname } of rows) await sql.unsafe(`drop database if exists "${datname}" with (force)`);
    let keys = 0;
    const prefixes = new Set<string>();
    await scanKeys(redis, `*${prefixPattern(run)}*`, async (found) => {
      for (const key of found) prefixes.add(key.split(":")[0] ?? key);
      keys += await redis.unlink(...found);
    });
    return { databases: rows.map((r) => r.datname), keys, prefixes: [...prefixes].sort() };
  } finally {
    await sql.end();
    redis.disconnect();
  }
}
