import { hostname } from "node:os";
import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Database } from "../src/db/database.js";
import {
  type DeliveriesJob,
  openQueue,
  type QueueSettings,
  queueNames,
  workerOptions,
} from "../src/queues.js";
import { type DeliverSettings, deliverBatch } from "../src/sending/deliver.js";
import type { MailIdentity } from "../src/sending/identity.js";
import type { Mailer } from "../src/sending/mailer.js";
import { startDueSends } from "../src/sending/plan.js";
import { sharedRateLimiter } from "../src/sending/rate.js";
import { reconcile } from "../src/sending/reconcile.js";
import { relayRate } from "../src/sending/relay-rate.js";
import { sendCache } from "../src/sending/send-cache.js";
import { messageBuffers } from "../src/sending/template.js";

/**
 * The deliveries side of a worker process: a BullMQ Worker on the `deliveries` queue (a batch job
 * runs src/sending/deliver.ts, a wake-up starts due sends) plus the reconciler on a timer. Wiring
 * only; workers/main.ts starts it.
 */
export interface DeliveryWorkerDeps {
  database: Database;
  mailer: Mailer;
  identity: MailIdentity;
  /** A worker connection (maxRetriesPerRequest: null), used by the Worker and the rate bucket. */
  redis: Redis;
  /** A producer connection for the reconciler's enqueues. */
  producer: Redis;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface DeliveryWorkerSettings
  extends QueueSettings,
    Omit<DeliverSettings, "claimSize" | "policyPauseAfter" | "breakers"> {
  sendRate: number;
  sendBatchSize: number;
  reconcileSeconds: number;
  stallSeconds: number;
  /**
   * Batch jobs in flight per process. Four: a job spends about as long claiming and committing in
   * Postgres as sending, so with two the SMTP sessions idled (measured: 4 gives ~10 % more msgs/s
   * on 20k readers). A SIGKILL leaves at most two claims per job ambiguous.
   */
  concurrency?: number;
  policyPauseAfter?: number;
  /** COMPLAINT_PAUSE_RATE, BOUNCE_PAUSE_RATE (defaults 0.003, 0.05 as in config.ts). */
  complaintPauseRate?: number;
  bouncePauseRate?: number;
  /** SMTP_POOL: sizes how many messages of a claim are handed to SMTP at a time. */
  smtpPool?: number;
  /** TRACK_CLICKS, TRACK_OPENS: readers' mail carries `/r/` links and the `/o/` pixel. Off when absent. */
  trackClicks?: boolean;
  trackOpens?: boolean;
}

export interface DeliveryWorker {
  /** Two-phase: stop taking jobs and finish the ones in flight (outcomes committed), then stop. */
  close(): Promise<void>;
  reconcileNow(): Promise<void>;
}

export async function startDeliveryWorker(
  deps: DeliveryWorkerDeps,
  settings: DeliveryWorkerSettings,
): Promise<DeliveryWorker> {
  const concurrency = settings.concurrency ?? 4;
  const owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const queue = openQueue<DeliveriesJob>(queueNames.deliveries, settings, deps.producer);
  const plan = { database: deps.database, queue, batchSize: settings.sendBatchSize };
  const deliver = {
    db: deps.database.db,
    mailer: deps.mailer,
    identity: deps.identity,
    rate: sharedRateLimiter(deps.redis, settings.queuePrefix, settings.sendRate),
    relayRate: relayRate(deps.redis, settings.queuePrefix, settings.sendRate),
    owner,
    sends: sendCache(deps.database.db, deps.identity, 8, {
      clicks: settings.trackClicks ?? false,
      opens: settings.trackOpens ?? false,
      secret: settings.secret,
    }),
    buffers: messageBuffers(),
    log: deps.log,
    warnedSends: new Set<string>(),
    settings: {
      ...settings,
      // All jobs' claims together hold about a second of mail, so pause and cancel bite quickly at
      // any rate; at most 100, because a worker killed mid-claim leaves up to two claims per job
      // ambiguous (the one being sent and the one being committed: sent, not committed).
      claimSize: Math.max(
        1,
        Math.min(settings.sendBatchSize, 100, Math.ceil(settings.sendRate / concurrency)),
      ),
      policyPauseAfter: settings.policyPauseAfter ?? 10,
      breakers: {
        complaintPauseRate: settings.complaintPauseRate ?? 0.003,
        bouncePauseRate: settings.bouncePauseRate ?? 0.05,
      },
      inFlight: 2 * (settings.smtpPool ?? 5),
    },
  };
  const worker = new Worker<DeliveriesJob>(
    queueNames.deliveries,
    async (job: Job<DeliveriesJob>) => {
      const data = job.data;
      if ("due" in data) {
        await startDueSends(plan);
        return;
      }
      const result = await deliverBatch(deliver, data);
      if (result.deferred > 0)
        deps.log("deferred rows wait for their retry time", { sendId: data.sendId, ...result });
      return result;
    },
    workerOptions(settings.queuePrefix, deps.redis, {
      concurrency,
      lockDuration: settings.stallSeconds * 1000,
      stalledInterval: settings.stallSeconds * 1000,
      // Jobs are idempotent (claims are conditional), so a stalled job is simply run again.
      maxStalledCount: 1000,
    }),
  );
  worker.on("failed", (job, err) => deps.log("batch failed", { jobId: job?.id, error: err.message }));
  worker.on("error", (err) => deps.log("worker error", { error: err.message }));

  let reconciling: Promise<void> | undefined;
  const reconcileNow = () => {
    reconciling ??= reconcile(plan)
      .then((r) => {
        if (r.expired || r.started.length || r.finished) deps.log("reconciled", { ...r });
      })
      .catch((err: Error) => deps.log("reconcile failed", { error: err.message }))
      .finally(() => {
        reconciling = undefined;
      });
    return reconciling;
  };
  await reconcileNow();
  const timer = setInterval(reconcileNow, settings.reconcileSeconds * 1000);
  timer.unref();

  return {
    reconcileNow,
    async close() {
      clearInterval(timer);
      await worker.close();
      await reconciling;
      await queue.close();
    },
  };
}
