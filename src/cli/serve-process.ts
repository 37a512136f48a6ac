import { readFileSync } from "node:fs";
import { type ServerType, serve } from "@hono/node-server";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { snsKeySource } from "../bounces/providers/sns.js";
import { type Config, ConfigError, loadConfig, resolvePublicUrl } from "../config.js";
import { databaseTarget, openDatabase } from "../db/connect.js";
import type { Database } from "../db/database.js";
import { checkSchemaVersion } from "../db/schema-version.js";
import { createApp } from "../http/app.js";
import { clientAddress, pageLimit, redisRateLimiter } from "../http/request.js";
import { redisReplayMemory, visitSubscribeUrl } from "../http/webhooks.js";
import { inboundActions } from "../inbound/actions.js";
import { type BounceMailbox, startBounceMailbox } from "../inbound/imap.js";
import { startReadPool } from "../inbound/read-pool.js";
import { knownMailboxes } from "../inbound/recipient.js";
import { inboundLimits, startInboundServer } from "../inbound/server.js";
import { proxyMatcher } from "../limits.js";
import { createLogger, type Logger } from "../log.js";
import { loadNewsletter } from "../newsletter.js";
import { openProducer, queueSettingsOf, redisReady } from "../queues.js";
import { resolveIdentity } from "../sending/identity.js";
import { rateLimitOrUnknown, relayRate } from "../sending/relay-rate.js";
import { untilStopSignal } from "../signals.js";
import { forgetReaderJobs, queueNotify } from "../subscribers/notify.js";

/** How long start waits for Redis's first connection before serving without it. */
const redisStartMs = 5000;

/** Per-IP limit on POST /subscribe, shared by all serve processes through Redis. */
export const subscribeLimit = { limit: 20, windowSeconds: 3600 };

export const serveSettings = [
  "redisUrl",
  "queuePrefix",
  "port",
  "publicUrl",
  "secret",
  "adminToken",
  "newsletterFile",
  "mailFrom",
  "mailDomain",
  "inboundSmtpPort",
  "softBounceLimit",
  "deferHorizonSeconds",
  "sendBatchSize",
  "sendRate",
  // Bounces from relays (provider webhooks, the bounce mailbox): each is off when unset.
  "bounceImapUrl",
  "snsCertFile",
  "snsTopicArns",
  "webhookPostmarkAuth",
  "webhookMailgunSigningKey",
  "webhookSendgridPublicKey",
  "trustedProxies",
  "metricsToken",
  "inboundTlsCertFile",
  "inboundTlsKeyFile",
  "trackClicks",
  "trackOpens",
  "trackingRetentionDays",
  "languages",
] as const;
type RelaySettingName =
  | "bounceImapUrl"
  | "snsCertFile"
  | "snsTopicArns"
  | "webhookPostmarkAuth"
  | "webhookMailgunSigningKey"
  | "webhookSendgridPublicKey";
export type ServeSettings = Config<
  Exclude<
    (typeof serveSettings)[number],
    RelaySettingName | "sendRate" | "trackClicks" | "trackOpens" | "trackingRetentionDays" | "languages"
  >
> &
  Partial<Config<RelaySettingName>> &
  Partial<
    Config<"timezone" | "sendRate" | "trackClicks" | "trackOpens" | "trackingRetentionDays" | "languages">
  >;

export interface RunningServe {
  httpPort: number;
  inboundPort: number;
  /** Two phases: stop accepting (HTTP and SMTP), finish what is in flight, then close Redis. */
  close(): Promise<void>;
}

/**
 * The HTTP app and the inbound SMTP server on an open database: what `digest serve` runs, and what
 * `digest demo` runs in its single process beside a worker.
 */
export async function startServe(
  settings: ServeSettings,
  database: Database,
  log: Logger,
  /** Tests that send many commands from one address raise the inbound limits. */
  options: { inboundLimits?: typeof inboundLimits } = {},
): Promise<RunningServe> {
  let trustedProxy: (address: string) => boolean;
  try {
    trustedProxy = proxyMatcher(settings.trustedProxies ?? []);
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
  const tls = inboundTls(settings);
  const publicUrl = resolvePublicUrl(settings);
  if (publicUrl.warning) log.warn(publicUrl.warning);
  if (!settings.adminToken) log.info("ADMIN_TOKEN is unset: the admin API answers 401");
  const newsletter = loadNewsletter(settings.newsletterFile);
  const identity = resolveIdentity({ ...settings, publicUrl: publicUrl.url }, newsletter);
  const producer = openProducer(queueSettingsOf(settings), (error) => log.warn({ err: error }, "redis"));
  // Requests that need Redis (webhook replay checks, rate limits, enqueueing) wait for its first
  // connection; a Redis that is down does not stop the archive and pages from being served.
  if (!(await redisReady(producer.connection, redisStartMs)))
    log.warn(`Redis is not answering after ${redisStartMs / 1000} s; starting anyway`);
  const { transactional: queue, deliveries } = producer;
  const notify = queueNotify(queue);
  const report = {
    db: database.db,
    secret: settings.secret,
    domain: identity.domain,
    softBounceLimit: settings.softBounceLimit,
    deferHorizonSeconds: settings.deferHorizonSeconds,
  };
  const mailboxCounts: Record<string, number> = {};
  const app = await createApp({
    db: database.db,
    notify,
    secret: settings.secret,
    newsletter,
    publicUrl: publicUrl.url,
    adminToken: settings.adminToken,
    limiter: redisRateLimiter(producer.connection, settings.queuePrefix, subscribeLimit),
    pageLimiter: redisRateLimiter(producer.connection, settings.queuePrefix, pageLimit),
    clientIp: (c) => clientAddress(c, trustedProxy),
    proxiesTrusted: (settings.trustedProxies ?? []).length > 0,
    metricsToken: settings.metricsToken,
    forgetJobs: (subscriberId) => forgetReaderJobs(queue, subscriberId),
    log,
    sending: { database, queue: deliveries, batchSize: settings.sendBatchSize },
    ...(settings.sendRate
      ? { rateLimit: rateLimitFor(producer.connection, settings.queuePrefix, settings.sendRate) }
      : {}),
    dashboardQueues: [queue, deliveries] as Queue[],
    webhooks: {
      report,
      log,
      snsKeys: snsKeySource(settings.snsCertFile ? { certFile: settings.snsCertFile } : {}),
      confirmSubscription: visitSubscribeUrl,
      ...(settings.snsTopicArns ? { snsTopicArns: settings.snsTopicArns } : {}),
      ...(settings.webhookPostmarkAuth ? { postmarkAuth: settings.webhookPostmarkAuth } : {}),
      ...(settings.webhookMailgunSigningKey ? { mailgunSigningKey: settings.webhookMailgunSigningKey } : {}),
      ...(settings.webhookSendgridPublicKey ? { sendgridPublicKey: settings.webhookSendgridPublicKey } : {}),
      ...redisReplayMemory(producer.connection, settings.queuePrefix),
    },
    bounceMailboxCounts: () => mailboxCounts,
    tracking: {
      clicks: settings.trackClicks ?? false,
      opens: settings.trackOpens ?? false,
      retentionDays: settings.trackingRetentionDays ?? 90,
    },
    timezone: settings.timezone,
    mailFrom: `${identity.from.name} <${identity.from.address}>`,
    // Settings read when an admin asks, so a DNS or relay fix shows without restarting serve.
    doctor: async () => (await import("./doctor-command.js")).runConfiguredDoctor(),
    ...(settings.languages ? { languages: settings.languages } : {}),
  });
  const server: ServerType = serve({ fetch: app.fetch, port: settings.port, hostname: "0.0.0.0" });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  // Inbound mail and the bounce mailbox are parsed in these threads, never on the loop serving HTTP.
  const reader = startReadPool();
  const address = server.address();
  const httpPort = typeof address === "object" && address ? address.port : settings.port;
  const inbound = await startInboundServer({
    port: settings.inboundSmtpPort,
    domain: identity.domain,
    mailboxes: knownMailboxes(identity.from.address, identity.domain),
    secret: settings.secret,
    log,
    tls,
    reader,
    limits: {
      commands: redisRateLimiter(
        producer.connection,
        settings.queuePrefix,
        options.inboundLimits?.commands ?? inboundLimits.commands,
      ),
      reports: redisRateLimiter(
        producer.connection,
        settings.queuePrefix,
        options.inboundLimits?.reports ?? inboundLimits.reports,
      ),
      signed: redisRateLimiter(
        producer.connection,
        settings.queuePrefix,
        options.inboundLimits?.signed ?? inboundLimits.signed,
      ),
    },
    actions: inboundActions({
      ...report,
      notify,
      ...(settings.languages ? { languages: settings.languages } : {}),
    }),
  });
  const mailbox: BounceMailbox | undefined = settings.bounceImapUrl
    ? startBounceMailbox(
        {
          report,
          log,
          reader,
          count: (result) => {
            mailboxCounts[result] = (mailboxCounts[result] ?? 0) + 1;
          },
        },
        settings.bounceImapUrl,
      )
    : undefined;
  log.info({ port: httpPort, inboundPort: inbound.port, publicUrl: publicUrl.url }, "serving");
  return {
    httpPort,
    inboundPort: inbound.port,
    async close() {
      await Promise.all([
        inbound.close(),
        new Promise<void>((resolve) => server.close(() => resolve())),
        mailbox?.close(),
      ]);
      await reader.close();
      await producer.close();
    },
  };
}

/** STARTTLS needs both files; one without the other is a mistake worth stopping for. */
/** The console's view of the shared sending rate (the workers' SEND_RATE, lowered while the relay throttles). */
function rateLimitFor(redis: Redis, queuePrefix: string, sendRate: number) {
  const rate = relayRate(redis, queuePrefix, sendRate);
  return () => rateLimitOrUnknown(rate, sendRate);
}

function inboundTls(settings: ServeSettings): { cert: Buffer; key: Buffer } | undefined {
  const { inboundTlsCertFile: certFile, inboundTlsKeyFile: keyFile } = settings;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    throw new ConfigError([
      "INBOUND_TLS_CERT_FILE and INBOUND_TLS_KEY_FILE go together: set both or neither",
    ]);
  }
  const read = (file: string, name: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError([`${name} cannot be read: ${(error as Error).message}`]);
    }
  };
  return { cert: read(certFile, "INBOUND_TLS_CERT_FILE"), key: read(keyFile, "INBOUND_TLS_KEY_FILE") };
}

/** `digest serve`: runs until SIGTERM/SIGINT, then shuts down in two phases. */
export async function runServe(): Promise<void> {
  const settings = loadConfig([...serveSettings, "timezone", "databaseUrl", "logLevel"]);
  const log = createLogger(settings.logLevel);
  const database = await openDatabase(databaseTarget(settings.databaseUrl));
  let running: RunningServe;
  try {
    await checkSchemaVersion(database);
    running = await startServe(settings, database, log);
  } catch (error) {
    await database.close();
    throw error;
  }
  await untilStopSignal();
  log.info("shutting down: finishing requests in flight");
  await running.close();
  await database.close();
}
