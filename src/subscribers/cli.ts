import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { loadConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { DigestError } from "../errors.js";
import { openProducer, queueSettingsOf } from "../queues.js";
import { addSubscriber, eraseSubscriber } from "./admin.js";
import { exportSubscribers, importSubscribers } from "./csv.js";
import { type Notify, queueNotify } from "./notify.js";
import { unsuppress } from "./suppression.js";

/**
 * `digest subscribers ...`: the same functions as the admin API. Redis is opened only by the
 * commands that queue a confirmation mail (add without --confirmed, import --pending).
 */
async function withNotify<T>(fn: (notify: Notify) => Promise<T>): Promise<T> {
  const settings = loadConfig(["redisUrl", "queuePrefix"]);
  const producer = openProducer(queueSettingsOf(settings));
  try {
    return await fn(queueNotify(producer.transactional));
  } finally {
    await producer.close();
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
  return { erased: await eraseSubscriber(database.db, email) };
}

export async function unsuppressCommand(database: Database, email: string) {
  const lifted = await unsuppress(database.db, email);
  if (!lifted) throw new DigestError("not_found", `${email} is not on the suppression list`);
  return { lifted };
}
