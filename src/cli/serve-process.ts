import { type ServerType, serve } from "@hono/node-server";
import type { Queue } from "bullmq";
import { type Config, loadConfig, resolvePublicUrl } from "../config.js";
import { databaseTarget, openDatabase } from "../db/connect.js";
import type { Database } from "../db/database.js";
import { createApp } from "../http/app.js";
import { redisRateLimiter, socketAddress } from "../http/request.js";
import { inboundActions } from "../inbound/actions.js";
import { knownMailboxes } from "../inbound/recipient.js";
import { startInboundServer } from "../inbound/server.js";
import { createLogger, type Logger } from "../log.js";
import { loadNewsletter } from "../newsletter.js";
import { openProducer, queueSettingsOf } from "../queues.js";
import { resolveIdentity } from "../sending/identity.js";
import { untilStopSignal } from "../signals.js";
import { queueNotify } from "../subscribers/notify.js";

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
  "sendBatchSize",
] as const;
export type ServeSettings = Config<(typeof serveSettings)[number]>;

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
): Promise<RunningServe> {
  const publicUrl = resolvePublicUrl(settings);
  if (publicUrl.warning) log.warn(publicUrl.warning);
  if (!settings.adminToken) log.info("ADMIN_TOKEN is unset: the admin API answers 401");
  const newsletter = loadNewsletter(settings.newsletterFile);
  const identity = resolveIdentity({ ...settings, publicUrl: publicUrl.url }, newsletter);
  const producer = openProducer(queueSettingsOf(settings), (error) => log.warn({ err: error }, "redis"));
  const { transactional: queue, deliveries } = producer;
  const notify = queueNotify(queue);
  const app = await createApp({
    db: database.db,
    notify,
    secret: settings.secret,
    newsletter,
    publicUrl: publicUrl.url,
    adminToken: settings.adminToken,
    limiter: redisRateLimiter(producer.connection, settings.queuePrefix, subscribeLimit),
    clientIp: socketAddress,
    log,
    sending: { database, queue: deliveries, batchSize: settings.sendBatchSize },
    dashboardQueues: [queue, deliveries] as Queue[],
  });
  const server: ServerType = serve({ fetch: app.fetch, port: settings.port, hostname: "0.0.0.0" });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  const httpPort = typeof address === "object" && address ? address.port : settings.port;
  const inbound = await startInboundServer({
    port: settings.inboundSmtpPort,
    domain: identity.domain,
    mailboxes: knownMailboxes(identity.from.address, identity.domain),
    secret: settings.secret,
    log,
    actions: inboundActions({
      db: database.db,
      notify,
      secret: settings.secret,
      domain: identity.domain,
      softBounceLimit: settings.softBounceLimit,
    }),
  });
  log.info({ port: httpPort, inboundPort: inbound.port, publicUrl: publicUrl.url }, "serving");
  return {
    httpPort,
    inboundPort: inbound.port,
    async close() {
      await Promise.all([inbound.close(), new Promise<void>((resolve) => server.close(() => resolve()))]);
      await producer.close();
    },
  };
}

/** `digest serve`: runs until SIGTERM/SIGINT, then shuts down in two phases. */
export async function runServe(): Promise<void> {
  const settings = loadConfig([...serveSettings, "databaseUrl", "logLevel"]);
  const log = createLogger(settings.logLevel);
  const database = await openDatabase(databaseTarget(settings.databaseUrl));
  let running: RunningServe;
  try {
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
