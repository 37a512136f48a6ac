import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pino } from "pino";
import { ConfigError, embeddedDataDir, loadConfig, resolvePublicUrl } from "../src/config.js";
import { openDatabase } from "../src/db/connect.js";
import { loadNewsletter } from "../src/newsletter.js";
import { resolveIdentity } from "../src/sending/identity.js";
import { createMailer } from "../src/sending/mailer.js";
import { defaultRedisUrl, redisConnection } from "../src/sending/queue.js";
import { startDeliveryWorker } from "../src/sending/worker.js";

/**
 * The worker process: wires settings into the delivery worker (and the transactional one when it
 * exists), then waits. SIGTERM/SIGINT shut down in two phases: stop taking jobs and finish the
 * batches in flight (their outcomes committed), then close Postgres, Redis and SMTP, and exit 0.
 * Runs compiled JS and never loads React: issues arrive already rendered in their rows.
 */
export async function runWorkers(options: { onReady?: () => void } = {}): Promise<void> {
  const settings = loadConfig([
    "databaseUrl",
    "redisUrl",
    "queuePrefix",
    "smtpUrl",
    "secret",
    "publicUrl",
    "port",
    "mailFrom",
    "mailDomain",
    "newsletterFile",
    "sendRate",
    "smtpPool",
    "softBounceLimit",
    "leaseSeconds",
    "reconcileSeconds",
    "stallSeconds",
    "retryBaseSeconds",
    "deferHorizonSeconds",
    "sendBatchSize",
    "dkimDomain",
    "dkimSelector",
    "dkimPrivateKeyFile",
    "logLevel",
  ]);
  const log = pino({ level: settings.logLevel }, pino.destination(2));
  const publicUrl = resolvePublicUrl(settings);
  if (publicUrl.warning) log.warn(publicUrl.warning);
  const identity = resolveIdentity(
    { ...settings, publicUrl: publicUrl.url },
    loadNewsletter(settings.newsletterFile),
  );
  const dkim = dkimOptions(settings);
  const queueSettings = { redisUrl: settings.redisUrl ?? defaultRedisUrl, queuePrefix: settings.queuePrefix };
  const database = await openDatabase(
    settings.databaseUrl ? { url: settings.databaseUrl } : { dataDir: embeddedDataDir() },
  );
  const mailer = createMailer({
    smtpUrl: settings.smtpUrl,
    pool: settings.smtpPool,
    ...(dkim ? { dkim } : {}),
  });
  const redis = redisConnection(queueSettings, "worker");
  const producer = redisConnection(queueSettings, "producer");
  const say = (msg: string, fields?: Record<string, unknown>) => log.info(fields ?? {}, msg);
  const deliveries = await startDeliveryWorker(
    { database, mailer, identity, redis, producer, log: say },
    { ...settings, ...queueSettings },
  );
  // A failure after the delivery worker started must not leave it running without a SIGTERM handler.
  const transactional = await startTransactional({
    db: database.db,
    // Its own pool and connection: its close() ends them, independently of the deliveries side.
    mailer: createMailer({ smtpUrl: settings.smtpUrl, pool: 1, ...(dkim ? { dkim } : {}) }),
    connection: redisConnection(queueSettings, "worker"),
    queuePrefix: settings.queuePrefix,
    secret: settings.secret,
    identity,
    newsletter: loadNewsletter(settings.newsletterFile),
    log: say,
  }).catch(async (error: unknown) => {
    await deliveries.close();
    throw error;
  });
  log.info({ pid: process.pid, sendRate: settings.sendRate, smtpPool: settings.smtpPool }, "worker ready");
  options.onReady?.();

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "stopping: finishing the batches in flight");
      try {
        await Promise.all([deliveries.close(), transactional?.close()]);
      } finally {
        mailer.close();
        redis.disconnect();
        producer.disconnect();
        await database.close();
        log.info("stopped");
        resolve();
      }
    };
    process.once("SIGTERM", () => void stop("SIGTERM"));
    process.once("SIGINT", () => void stop("SIGINT"));
  });
}

function dkimOptions(settings: { dkimDomain?: string; dkimSelector?: string; dkimPrivateKeyFile?: string }) {
  const { dkimDomain, dkimSelector, dkimPrivateKeyFile } = settings;
  if (!dkimDomain && !dkimSelector && !dkimPrivateKeyFile) return undefined;
  if (!dkimDomain || !dkimSelector || !dkimPrivateKeyFile)
    throw new ConfigError([
      "DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE go together: set all three or none",
    ]);
  let privateKey: string;
  try {
    privateKey = readFileSync(dkimPrivateKeyFile, "utf8");
  } catch (error) {
    throw new ConfigError([`DKIM_PRIVATE_KEY_FILE cannot be read: ${(error as Error).message}`]);
  }
  // Named explicitly: RFC 8058 one-click only counts when the signature covers both headers.
  const headerFieldNames =
    "From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:" +
    "Content-Transfer-Encoding:List-Id:List-Archive:List-Unsubscribe:List-Unsubscribe-Post";
  return { domainName: dkimDomain, keySelector: dkimSelector, privateKey, headerFieldNames };
}

/**
 * The subscription engineer's transactional worker (workers/transactional.ts), started in this
 * process when it exists. Looked up at run time so this file builds before that one lands.
 */
async function startTransactional(
  deps: Record<string, unknown>,
): Promise<{ close(): Promise<void> } | undefined> {
  const here = dirname(fileURLToPath(import.meta.url));
  const file = ["transactional.js", "transactional.ts"].map((f) => join(here, f)).find((f) => existsSync(f));
  if (!file) return undefined;
  const module = (await import(pathToFileURL(file).href)) as {
    startTransactionalWorker?: (deps: Record<string, unknown>) => Promise<{ close(): Promise<void> }>;
  };
  return module.startTransactionalWorker?.(deps);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runWorkers().catch((error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
