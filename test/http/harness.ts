import type { Queue } from "bullmq";
import { simpleParser } from "mailparser";
import { pino } from "pino";
import { afterAll } from "vitest";
import { type AppDeps, createApp } from "../../src/http/app.js";
import { memoryRateLimiter, type RateLimiter } from "../../src/http/request.js";
import type { Language } from "../../src/i18n/catalogue.js";
import { loadNewsletter } from "../../src/newsletter.js";
import { type DeliveriesJob, openQueue, redisConnection, type TransactionalJob } from "../../src/queues.js";
import { resolveIdentity } from "../../src/sending/identity.js";
import { createMailer } from "../../src/sending/mailer.js";
import { queueNotify } from "../../src/subscribers/notify.js";
import { startTransactionalWorker } from "../../workers/transactional-worker.js";
import { repoRoot } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";
import { type CapturedMessage, startSmtpCapture } from "../helpers/smtp.js";

export const secret = "test-secret-0123456789abcdef-0123456789";
export const adminToken = "admin-token-0123456789abcdef-0123456789";

/**
 * The whole subscription service as a test drives it: a fresh database, a queue under a unique
 * prefix on the shared Redis, the transactional worker, and a real SMTP server that records mail.
 */
export async function startService(
  options: {
    publicUrl?: string;
    limiter?: RateLimiter;
    worker?: boolean;
    sending?: boolean;
    languages?: readonly [Language, ...Language[]];
  } = {},
) {
  const database = await createTestDatabase();
  const smtp = await startSmtpCapture();
  const settings = { redisUrl: sharedRedisUrl, queuePrefix: uniquePrefix("subs") };
  const producer = redisConnection(settings, "producer");
  const queue = openQueue<TransactionalJob>("transactional", settings, producer);
  const newsletter = loadNewsletter("newsletter.yaml", repoRoot);
  const publicUrl = options.publicUrl ?? "http://localhost:3000";
  const identity = resolveIdentity({ publicUrl }, newsletter);
  const worker =
    options.worker === false
      ? undefined
      : startTransactionalWorker({
          db: database.db,
          mailer: createMailer({ smtpUrl: smtp.url, pool: 1 }),
          connection: redisConnection(settings, "worker"),
          queuePrefix: settings.queuePrefix,
          secret,
          identity,
          newsletter,
          ...(options.languages ? { languages: options.languages } : {}),
        });
  const deliveries = openQueue<DeliveriesJob>("deliveries", settings, producer);
  const deps: AppDeps = {
    db: database.db,
    notify: queueNotify(queue),
    secret,
    newsletter,
    publicUrl,
    adminToken,
    limiter: options.limiter ?? memoryRateLimiter({ limit: 100_000, windowSeconds: 3600 }),
    // Every request of a test comes from one client; the limit itself is tested on its own.
    pageLimiter: memoryRateLimiter({ limit: 100_000, windowSeconds: 3600 }),
    clientIp: () => "192.0.2.1",
    log: pino({ level: "silent" }),
    ...(options.languages ? { languages: options.languages } : {}),
    ...(options.sending
      ? {
          sending: { database, queue: deliveries, batchSize: 50 },
          dashboardQueues: [queue, deliveries] as Queue[],
        }
      : {}),
  };
  const app = await createApp(deps);
  afterAll(async () => {
    await worker?.close();
    await Promise.all([queue.close(), deliveries.close()]);
    producer.disconnect();
    await smtp.close();
    await dropPrefix(settings.queuePrefix);
  });
  return { app, deps, database, smtp, queue, worker, newsletter, identity, settings };
}

export async function parsed(message: CapturedMessage) {
  return simpleParser(message.raw);
}

/** The first link in a mail's text part that starts with `prefix`. */
export function linkIn(text: string, prefix: string): string {
  const match = text.match(new RegExp(`${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[a-z2-7]+`));
  if (!match) throw new Error(`no ${prefix} link in:\n${text}`);
  return match[0];
}

export function form(fields: Record<string, string>): RequestInit {
  return {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  };
}

export function json(value: unknown, method = "POST"): RequestInit {
  return { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(value) };
}

export const bearer = { Authorization: `Bearer ${adminToken}` };
