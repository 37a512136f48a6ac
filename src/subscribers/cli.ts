import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Redis } from "ioredis";
import { loadConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { DigestError } from "../errors.js";
import { defaultRedisUrl, openQueue, redisConnection, type TransactionalJob } from "../sending/queue.js";
import { addSubscriber, eraseReader } from "./admin.js";
import { exportSubscribers, importSubscribers } from "./csv.js";
import { forgetReaderJobs, type Notify, queueNotify } from "./notify.js";
import { unsuppress } from "./suppression.js";

/**
 * `digest subscribers ...`: the same functions as the admin API. Redis is opened only by the
 * commands that queue a confirmation mail (add without --confirmed, import --pending) and by
 * remove, which takes the erased reader's jobs out of the queue.
 */
/** Connects once, without retrying: an erasure must not hang on a Redis that is down. */
async function forgetJobs(subscriberId: string): Promise<number> {
  const settings = loadConfig(["redisUrl", "queuePrefix"]);
  const queueSettings = { redisUrl: settings.redisUrl ?? defaultRedisUrl, queuePrefix: settings.queuePrefix };
  const connection = new Redis(queueSettings.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 5_000,
  });
  connection.on("error", () => {});
  try {
    await connection.connect();
    const queue = openQueue<TransactionalJob>("transactional", queueSettings, connection);
    try {
      return await forgetReaderJobs(queue, subscriberId);
    } finally {
      await queue.close().catch(() => {});
    }
  } finally {
    connection.disconnect();
  }
}

async function withNotify<T>(fn: (notify: Notify) => Promise<T>): Promise<T> {
  const settings = loadConfig(["redisUrl", "queuePrefix"]);
  const connection = redisConnection(
    { redisUrl: settings.redisUrl ?? defaultRedisUrl, queuePrefix: settings.queuePrefix },
    "producer",
  );
  connection.on("error", () => {});
  const queue = openQueue<TransactionalJob>(
    "transactional",
    { redisUrl: settings.redisUrl ?? defaultRedisUrl, queuePrefix: settings.queuePrefix },
    connection,
  );
  try {
    return await fn(queueNotify(queue));
  } finally {
    await queue.close().catch(() => {});
    connection.disconnect();
  }
}

export async function addCommand(
  database: Database,
  email: string,
  options: { name?: string; confirmed?: boolean },
) {
  const add = (notify: Notify) =>
    addSubscriber({ db: database.db, notify }, { email, name: options.name, confirmed: options.confirmed });
  const row = options.confirmed
    ? await add(async () => {
        throw new Error("a confirmed add sends no mail");
      })
    : await withNotify(add);
  return { id: row.id, email: row.email, status: row.status };
}

export async function importCommand(database: Database, file: string, options: { pending?: boolean }) {
  const input = createReadStream(file);
  const opened = new Promise<void>((resolve, reject) =>
    input.once("open", () => resolve()).once("error", reject),
  );
  await opened.catch((error: unknown) => {
    throw new DigestError("invalid", `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  });
  return options.pending
    ? withNotify((notify) => importSubscribers(database.db, input, { pending: true, notify }))
    : importSubscribers(database.db, input);
}

export async function exportCommand(database: Database, out: string | undefined) {
  const csv = exportSubscribers(database.db);
  await pipeline(csv, out ? createWriteStream(out) : process.stdout, { end: Boolean(out) });
}

export async function removeCommand(database: Database, email: string) {
  const id = await eraseReader(database.db, email);
  if (id) {
    // Best effort: the jobs name only the id, and a worker sends nothing for a row that is gone.
    await forgetJobs(id).catch((error: unknown) =>
      process.stderr.write(
        `warning: the reader is erased, but their queued mail jobs could not be removed (${(error as Error).message}); they name only an id and send nothing\n`,
      ),
    );
  }
  return { erased: id !== undefined };
}

export async function unsuppressCommand(database: Database, email: string) {
  const lifted = await unsuppress(database.db, email);
  if (!lifted) throw new DigestError("not_found", `${email} is not on the suppression list`);
  return { lifted };
}
