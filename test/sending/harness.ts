import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import type { ApplyReportDeps } from "../../src/bounces/apply.js";
import { softBounceStreak } from "../../src/bounces/streak.js";
import type { Database } from "../../src/db/database.js";
import { saveIssue } from "../../src/issues/store.js";
import { loadNewsletter } from "../../src/newsletter.js";
import { bullPrefix, type DeliveriesJob, queueNames } from "../../src/queues.js";
import { resolveIdentity } from "../../src/sending/identity.js";
import { createMailer, type Mailer, type MailerOptions } from "../../src/sending/mailer.js";
import type { PlanDeps } from "../../src/sending/plan.js";
import { type DeliveryWorker, startDeliveryWorker } from "../../workers/deliveries-worker.js";
import { repoRoot } from "../helpers/cli.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";

/** Small factories and a wired pipeline (real Postgres, Redis, SMTP) for the sending tests. */
export const secret = "test-secret-0123456789abcdef-0123456789";
export const newsletter = loadNewsletter(join(repoRoot, "newsletter.yaml"));
export const identity = resolveIdentity(
  { publicUrl: "https://news.example.org", mailDomain: "example.org" },
  newsletter,
);
export const exampleIssue = readFileSync(join(repoRoot, "examples/issues/vol-2-6.md"), "utf8");

/** What applying a report needs, for reports about this harness's sends in `database`. */
export const reportDeps = (database: Database): ApplyReportDeps => ({
  db: database.db,
  secret,
  domain: identity.domain,
  softBounceLimit: 3,
  deferHorizonSeconds: 3600,
});

export async function storeIssue(database: Database): Promise<string> {
  return (await saveIssue(database.db, exampleIssue, newsletter)).issue.id;
}

/** n active readers r0@readers.test .. r{n-1}@readers.test. */
export async function addReaders(database: Database, n: number, domain = "readers.test"): Promise<void> {
  await database.query(sql`insert into subscribers (email, status, consent_source)
    select 'r' || i || '@' || ${domain}, 'active', 'admin' from generate_series(0, ${n - 1}) as i`);
}

/**
 * A reader's soft bounces in a row as the policy counts them (derived from the rows, see
 * bounces/streak.ts), for `select ... from subscribers`.
 */
export const softBounces = softBounceStreak(sql`subscribers.id`, 3600);

export async function deliveryRows(database: Database, sendId: string) {
  return database.query<{
    id: number;
    status: string;
    email: string | null;
    ambiguous: number;
    attempts: number;
  }>(sql`
    select d.id::float8 as id, d.status, coalesce(d.address, s.email) as email, d.ambiguous, d.attempts
    from deliveries d left join subscribers s on s.id = d.subscriber_id where d.send_id = ${sendId} order by d.id`);
}

export async function sendStatusOf(database: Database, sendId: string): Promise<string> {
  const [row] = await database.query<{ status: string }>(sql`select status from sends where id = ${sendId}`);
  return row?.status ?? "missing";
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs = 20_000, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Pipeline {
  plan: PlanDeps;
  queue: Queue<DeliveriesJob>;
  prefix: string;
  redisUrl: string;
  /** `mailer`: how the worker's mailer checks the relay (SMTP_TLS, SMTP_CA_FILE). */
  startWorker(
    overrides?: Partial<WorkerOverrides>,
    mailer?: Pick<MailerOptions, "tls">,
  ): Promise<DeliveryWorker>;
  close(): Promise<void>;
}

interface WorkerOverrides {
  sendRate: number;
  leaseSeconds: number;
  reconcileSeconds: number;
  retryBaseSeconds: number;
  deferHorizonSeconds: number;
  policyPauseAfter: number;
  trackClicks: boolean;
  trackOpens: boolean;
}

export async function pipeline(
  database: Database,
  smtpUrl: string,
  options: { redisUrl?: string; batchSize?: number; prefix?: string } = {},
): Promise<Pipeline> {
  // A given prefix is another part's (a service, a CLI run): that part removes its keys.
  const prefix = options.prefix ?? uniquePrefix("send");
  const redisUrl = options.redisUrl ?? sharedRedisUrl;
  const producer = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const queue = new Queue<DeliveriesJob>(queueNames.deliveries, {
    connection: producer,
    prefix: bullPrefix(prefix),
  });
  const batchSize = options.batchSize ?? 50;
  const workers: { worker: DeliveryWorker; mailer: Mailer; redis: Redis; producer: Redis }[] = [];
  return {
    plan: { database, queue, batchSize },
    queue,
    prefix,
    redisUrl,
    async startWorker(overrides = {}, mailerOptions = {}) {
      const mailer = createMailer({ smtpUrl, pool: 3, ...mailerOptions });
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
      const workerProducer = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
      const worker = await startDeliveryWorker(
        { database, mailer, identity, redis, producer: workerProducer, log: () => {} },
        {
          redisUrl,
          queuePrefix: prefix,
          secret,
          sendRate: 1000,
          sendBatchSize: batchSize,
          leaseSeconds: 2,
          reconcileSeconds: 1,
          stallSeconds: 2,
          retryBaseSeconds: 0.2,
          deferHorizonSeconds: 3600,
          softBounceLimit: 3,
          ...overrides,
        },
      );
      workers.push({ worker, mailer, redis, producer: workerProducer });
      return worker;
    },
    async close() {
      for (const w of workers) {
        await w.worker.close();
        w.mailer.close();
        w.redis.disconnect();
        w.producer.disconnect();
      }
      await queue.close();
      producer.disconnect();
      if (!options.redisUrl && !options.prefix) await dropPrefix(prefix);
    },
  };
}
