import { type ServerType, serve } from "@hono/node-server";
import { pino } from "pino";
import { embeddedDataDir, loadConfig, resolvePublicUrl } from "../config.js";
import { openDatabase } from "../db/connect.js";
import { loadNewsletter } from "../newsletter.js";
import { defaultRedisUrl, openQueue, redisConnection, type TransactionalJob } from "../sending/queue.js";
import { queueNotify } from "../subscribers/notify.js";
import { createApp } from "./app.js";
import { redisRateLimiter, socketAddress } from "./request.js";

/** Per-IP limit on POST /subscribe, shared by all serve processes through Redis. */
export const subscribeLimit = { limit: 20, windowSeconds: 3600 };

/**
 * A part of `digest serve` that runs beside the HTTP app (the inbound SMTP server, SPEC §5). It gets
 * the process's settings and returns its two-phase close. Registered in `extraServices` below.
 */
export type ServeExtension = (context: { log: pino.Logger }) => Promise<{ close(): Promise<void> }>;
export const extraServices: ServeExtension[] = [];

/**
 * `digest serve`: the HTTP app on PORT. SIGTERM/SIGINT: stop accepting connections and finish the
 * requests in flight, then close Redis and the database.
 */
export async function runServe(options: { onReady?: (port: number) => void } = {}): Promise<void> {
  const settings = loadConfig([
    "databaseUrl",
    "redisUrl",
    "queuePrefix",
    "port",
    "publicUrl",
    "secret",
    "adminToken",
    "newsletterFile",
    "logLevel",
  ]);
  const log = pino({ level: settings.logLevel }, pino.destination(2));
  const publicUrl = resolvePublicUrl(settings);
  if (publicUrl.warning) log.warn(publicUrl.warning);
  if (!settings.adminToken) log.info("ADMIN_TOKEN is unset: the admin API answers 401");
  const newsletter = loadNewsletter(settings.newsletterFile);
  const queueSettings = { redisUrl: settings.redisUrl ?? defaultRedisUrl, queuePrefix: settings.queuePrefix };
  const database = await openDatabase(
    settings.databaseUrl ? { url: settings.databaseUrl } : { dataDir: embeddedDataDir() },
  );
  const producer = redisConnection(queueSettings, "producer");
  producer.on("error", (error) => log.warn({ err: error }, "redis"));
  const queue = openQueue<TransactionalJob>("transactional", queueSettings, producer);
  const app = await createApp({
    db: database.db,
    notify: queueNotify(queue),
    secret: settings.secret,
    newsletter,
    publicUrl: publicUrl.url,
    adminToken: settings.adminToken,
    limiter: redisRateLimiter(producer, settings.queuePrefix, subscribeLimit),
    clientIp: socketAddress,
    log,
  });
  const server: ServerType = serve({ fetch: app.fetch, port: settings.port, hostname: "0.0.0.0" });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const extensions = await Promise.all(extraServices.map((start) => start({ log })));
  log.info({ port: settings.port, publicUrl: publicUrl.url }, "serving");
  options.onReady?.(settings.port);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  log.info("shutting down: finishing requests in flight");
  await Promise.all(extensions.map((e) => e.close()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await queue.close();
  producer.disconnect();
  await database.close();
}
