import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { count } from "drizzle-orm";
import { Redis } from "ioredis";
import { loadConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { type Subscriber, subscriberStatuses, subscribers } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { openQueue, queueSettingsOf, redisConnection, type TransactionalJob } from "../queues.js";
import { cliActor } from "../staff/audit.js";
import { addSubscriber, findSubscriber, listSubscribers } from "../subscribers/admin.js";
import { exportSubscribers, importSubscribers } from "../subscribers/csv.js";
import { eraseReader } from "../subscribers/erase.js";
import { unsubscribe } from "../subscribers/lifecycle.js";
import { forgetReaderJobs, type Notify, queueNotify } from "../subscribers/notify.js";
import { unsuppress } from "../subscribers/suppression.js";

/**
 * `digest subscribers ...`: the same domain functions as the admin API. Redis is opened only by
 * the commands that queue a mail (add without --confirmed, import --pending, unsubscribe's goodbye).
 */
/** Connects once, without retrying: an erasure must not hang on a Redis that is down. */
async function forgetJobs(subscriberId: string): Promise<number> {
  const settings = loadConfig(["redisUrl", "queuePrefix"]);
  const queueSettings = queueSettingsOf(settings);
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
  const queueSettings = queueSettingsOf(settings);
  const connection = redisConnection(queueSettings, "producer");
  connection.on("error", () => {});
  const queue = openQueue<TransactionalJob>("transactional", queueSettings, connection);
  const notify = queueNotify(queue);
  // BullMQ waits for Redis forever; a command must not. The caller decides what a failure means.
  const timed: Notify = (requests) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("Redis did not answer within 10 s")), 10_000);
      notify(requests)
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
  try {
    return await fn(timed);
  } finally {
    connection.disconnect();
    await Promise.race([queue.close().catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
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

export async function exportCommand(database: Database, options: { out?: string; excel?: boolean }) {
  const csv = exportSubscribers(database.db, { excel: options.excel === true });
  await pipeline(csv, options.out ? createWriteStream(options.out) : process.stdout, {
    end: Boolean(options.out),
  });
}

export async function removeCommand(database: Database, email: string) {
  const id = await eraseReader(database.db, email, cliActor);
  if (!id)
    throw new DigestError(
      "not_found",
      `${email} is not a subscriber; its hash is on the suppression list now, so it is never mailed`,
    );
  // Best effort: the jobs name only the id, and a worker sends nothing for a row that is gone.
  await forgetJobs(id).catch((error: unknown) =>
    process.stderr.write(
      `warning: the reader is erased, but their queued mail jobs could not be removed (${(error as Error).message}); they name only an id and send nothing\n`,
    ),
  );
  return { erased: true };
}

export async function unsuppressCommand(database: Database, email: string) {
  const lifted = await unsuppress(database.db, email);
  if (!lifted) throw new DigestError("not_found", `${email} is not on the suppression list`);
  return { lifted };
}

export interface ListOptions {
  status?: string;
  search?: string;
  limit?: string;
  json?: boolean;
}

const limitOf = (text: string | undefined) => {
  if (text === undefined) return 50;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw new DigestError("invalid", "--limit must be a whole number from 1 to 500");
  return n;
};

/** Looks up readers: by status, by part of the address or name, oldest first. */
export async function listCommand(database: Database, options: ListOptions): Promise<string> {
  const page = await listSubscribers(database.db, {
    ...(options.status !== undefined ? { status: options.status } : {}),
    ...(options.search !== undefined ? { search: options.search } : {}),
    limit: limitOf(options.limit),
  });
  if (options.json)
    return `${JSON.stringify({ total: page.total, subscribers: page.subscribers.map(brief) })}\n`;
  const lines = page.subscribers.map((s) =>
    [s.email, s.status, s.name ?? "", (s.consentAt ?? s.createdAt).toISOString().slice(0, 10)].join("\t"),
  );
  const shown = page.subscribers.length;
  lines.push(
    shown < page.total
      ? `(${shown} of ${page.total} shown; --limit up to 500, or narrow with --search)`
      : `(${page.total} in all)`,
  );
  return `${lines.join("\n")}\n`;
}

function brief(s: Subscriber) {
  return {
    email: s.email,
    name: s.name,
    status: s.status,
    consentSource: s.consentSource,
    subscribedAt: (s.consentAt ?? s.createdAt).toISOString(),
    confirmedAt: s.confirmedAt?.toISOString() ?? null,
    unsubscribedAt: s.unsubscribedAt?.toISOString() ?? null,
  };
}

/** Readers by status, every status listed (0 when none), and the total. */
export async function countCommand(database: Database) {
  const rows = await database.db
    .select({ status: subscribers.status, n: count() })
    .from(subscribers)
    .groupBy(subscribers.status);
  const counts = Object.fromEntries(subscriberStatuses.map((s) => [s, 0])) as Record<string, number>;
  for (const r of rows) counts[r.status] = Number(r.n);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return { ...counts, total };
}

/** What the reader's own link does: status unsubscribed (and a goodbye mail); row and history stay. */
export async function unsubscribeCommand(database: Database, email: string) {
  const row = await findSubscriber(database.db, email);
  if (!row) throw new DigestError("not_found", `${email} is not a subscriber`);
  // Unsubscribing signs no token, so it needs no SECRET; only an active reader gets a goodbye mail.
  const deps = (notify: Notify) => ({ db: database.db, notify, secret: "" });
  const result =
    row.status === "active"
      ? await withNotify((notify) => unsubscribe(deps(notify), row.id))
      : await unsubscribe(
          deps(async () => {
            throw new Error("only an active reader gets a goodbye mail");
          }),
          row.id,
        );
  if (result.goodbyeError)
    process.stderr.write("warning: unsubscribed, but the goodbye mail could not be queued (Redis)\n");
  return { email: row.email, status: result.subscriber.status, changed: result.changed };
}
