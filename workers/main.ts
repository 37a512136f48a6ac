import type { KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { type Config, ConfigError, loadConfig, resolvePublicUrl } from "../src/config.js";
import { databaseTarget, openDatabase } from "../src/db/connect.js";
import type { Database } from "../src/db/database.js";
import { checkSchemaVersion } from "../src/db/schema-version.js";
import { createLogger, type Logger } from "../src/log.js";
import { loadNewsletter } from "../src/newsletter.js";
import { queueSettingsOf, redisConnection } from "../src/queues.js";
import { type DkimOptions, dkimKey, ed25519Selector } from "../src/sending/dkim.js";
import { dkimAlignmentWarning } from "../src/sending/dkim-alignment.js";
import { resolveIdentity } from "../src/sending/identity.js";
import { createMailer } from "../src/sending/mailer.js";
import { untilStopSignal } from "../src/signals.js";
import { startDeliveryWorker } from "./deliveries-worker.js";
import { startReadershipUpkeep } from "./readership-upkeep.js";
import { startTransactionalWorker } from "./transactional-worker.js";

export const workerSettings = [
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
  "complaintPauseRate",
  "bouncePauseRate",
  "leaseSeconds",
  "smtpTimeoutSeconds",
  "reconcileSeconds",
  "stallSeconds",
  "retryBaseSeconds",
  "deferHorizonSeconds",
  "sendBatchSize",
  "dkimDomain",
  "dkimSelector",
  "dkimPrivateKeyFile",
  "dkimEd25519KeyFile",
  "smtpCaFile",
  "smtpTls",
  "trackClicks",
  "trackOpens",
  "trackingRetentionDays",
  "languages",
] as const;
export type WorkerSettings = Config<(typeof workerSettings)[number]>;

export interface RunningWorkers {
  /** Two phases: stop taking jobs and finish the batches in flight (outcomes committed), then close. */
  close(): Promise<void>;
}

/**
 * The delivery and transactional workers on an open database: what `digest worker` runs, and what
 * `digest demo` runs in its one process. Workers never load React: issues arrive rendered in rows.
 */
export async function startWorkers(
  settings: WorkerSettings,
  database: Database,
  log: Logger,
): Promise<RunningWorkers> {
  const publicUrl = resolvePublicUrl(settings);
  if (publicUrl.warning) log.warn(publicUrl.warning);
  const newsletter = loadNewsletter(settings.newsletterFile);
  const identity = resolveIdentity({ ...settings, publicUrl: publicUrl.url }, newsletter);
  const dkim = dkimOptions(settings);
  if (dkim) {
    const misaligned = dkimAlignmentWarning(dkim.domainName, identity.from.address);
    if (misaligned) log.warn(misaligned);
  }
  const tls = relayTls(settings);
  if (tls.mode === "insecure")
    log.warn(
      "SMTP_TLS=insecure: the relay's certificate is not checked and a relay without TLS is used in clear, so anyone on the path can read and change every message and see the relay's password",
    );
  const queueSettings = queueSettingsOf(settings);
  // A row whose SMTP session outlives its lease is re-sent by another worker while still in flight.
  if (settings.leaseSeconds <= settings.smtpTimeoutSeconds) {
    log.warn(
      { leaseSeconds: settings.leaseSeconds, smtpTimeoutSeconds: settings.smtpTimeoutSeconds },
      "LEASE_SECONDS should be longer than SMTP_TIMEOUT_SECONDS, or slow servers cause ambiguous re-sends",
    );
  }
  const socketTimeoutMs = settings.smtpTimeoutSeconds * 1000;
  const mailer = createMailer({
    smtpUrl: settings.smtpUrl,
    pool: settings.smtpPool,
    socketTimeoutMs,
    tls,
    ...(dkim ? { dkim } : {}),
  });
  const redis = redisConnection(queueSettings, "worker");
  const producer = redisConnection(queueSettings, "producer");
  const say = (msg: string, fields?: Record<string, unknown>) => log.info(fields ?? {}, msg);
  const deliveries = await startDeliveryWorker(
    { database, mailer, identity, redis, producer, log: say },
    { ...settings, ...queueSettings },
  );
  // Its own pool and connection: its close() ends them, independently of the deliveries side.
  const transactional = startTransactionalWorker({
    db: database.db,
    mailer: createMailer({
      smtpUrl: settings.smtpUrl,
      pool: 1,
      socketTimeoutMs,
      tls,
      ...(dkim ? { dkim } : {}),
    }),
    connection: redisConnection(queueSettings, "worker"),
    queuePrefix: settings.queuePrefix,
    secret: settings.secret,
    identity,
    newsletter,
    languages: settings.languages,
    log: say,
  });
  const readership = startReadershipUpkeep(
    { db: database.db, log: say },
    { trackingRetentionDays: settings.trackingRetentionDays, intervalSeconds: settings.reconcileSeconds },
  );
  log.info({ pid: process.pid, sendRate: settings.sendRate, smtpPool: settings.smtpPool }, "worker ready");
  return {
    async close() {
      try {
        await Promise.all([deliveries.close(), transactional.close(), readership.close()]);
      } finally {
        mailer.close();
        redis.disconnect();
        producer.disconnect();
      }
    },
  };
}

/** `digest worker`: runs until SIGTERM/SIGINT, then shuts down in two phases and exits 0. */
export async function runWorkers(options: { onReady?: () => void } = {}): Promise<void> {
  const settings = loadConfig([...workerSettings, "databaseUrl", "logLevel"]);
  const log = createLogger(settings.logLevel);
  const database = await openDatabase(databaseTarget(settings.databaseUrl));
  let running: RunningWorkers;
  try {
    await checkSchemaVersion(database);
    running = await startWorkers(settings, database, log);
  } catch (error) {
    await database.close();
    throw error;
  }
  options.onReady?.();
  const signal = await untilStopSignal();
  log.info({ signal }, "stopping: finishing the batches in flight");
  try {
    await running.close();
  } finally {
    await database.close();
    log.info("stopped");
  }
}

function dkimOptions(settings: {
  dkimDomain?: string;
  dkimSelector?: string;
  dkimPrivateKeyFile?: string;
  dkimEd25519KeyFile?: string;
}): DkimOptions | undefined {
  const { dkimDomain, dkimSelector, dkimPrivateKeyFile, dkimEd25519KeyFile } = settings;
  if (!dkimDomain && !dkimSelector && !dkimPrivateKeyFile && !dkimEd25519KeyFile) return undefined;
  if (!dkimDomain || !dkimSelector || !dkimPrivateKeyFile)
    throw new ConfigError([
      dkimEd25519KeyFile && !dkimDomain && !dkimSelector && !dkimPrivateKeyFile
        ? "DKIM_ED25519_KEY_FILE is a second signature beside the RSA one: set DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE too"
        : "DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE go together: set all three or none",
    ]);
  // Parsed here, once: a PEM parsed at every message cost four times the signature itself.
  const options: DkimOptions = {
    domainName: dkimDomain,
    keySelector: dkimSelector,
    privateKey: keyFile("DKIM_PRIVATE_KEY_FILE", dkimPrivateKeyFile, "rsa"),
  };
  if (dkimEd25519KeyFile)
    options.ed25519 = {
      keySelector: ed25519Selector(dkimSelector),
      privateKey: keyFile("DKIM_ED25519_KEY_FILE", dkimEd25519KeyFile, "ed25519"),
    };
  return options;
}

function keyFile(setting: string, file: string, type: "rsa" | "ed25519"): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError([`${setting} cannot be read: ${(error as Error).message}`]);
  }
  try {
    return dkimKey(pem, type);
  } catch (error) {
    throw new ConfigError([`${setting} ${file} is no usable key: ${(error as Error).message}`]);
  }
}

/** SMTP_TLS and the PEM of SMTP_CA_FILE (config checked it is one) for the mailer. */
function relayTls(settings: { smtpTls: "verify" | "insecure"; smtpCaFile?: string }) {
  if (!settings.smtpCaFile) return { mode: settings.smtpTls };
  try {
    return { mode: settings.smtpTls, ca: readFileSync(settings.smtpCaFile, "utf8") };
  } catch (error) {
    throw new ConfigError([`SMTP_CA_FILE cannot be read: ${(error as Error).message}`]);
  }
}
