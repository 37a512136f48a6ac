import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { queueNames, type TransactionalJob, workerOptions } from "../src/queues.js";
import { sendTransactional, type TransactionalDeps } from "../src/sending/transactional-mail.js";
import { purgePending } from "../src/subscribers/lifecycle.js";

/**
 * The worker of the `transactional` queue (confirm, welcome, goodbye; see
 * src/sending/transactional-mail.ts), and the hourly purge of pending rows nobody confirmed within
 * 30 days. Wiring only.
 */
export interface TransactionalWorkerDeps extends TransactionalDeps {
  /** A connection made with `redisConnection(settings, "worker")`; closed by `close()`. */
  connection: Redis;
  queuePrefix: string;
  concurrency?: number;
  purgeEveryMs?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface TransactionalWorker {
  worker: Worker<TransactionalJob>;
  /** Phase one: take no new jobs and finish the ones in flight. Phase two: close SMTP and Redis. */
  close(): Promise<void>;
}

export function startTransactionalWorker(deps: TransactionalWorkerDeps): TransactionalWorker {
  const log = deps.log ?? (() => {});
  const worker = new Worker<TransactionalJob>(
    queueNames.transactional,
    async (job) => {
      const skipped = await sendTransactional(deps, job.data, job.id ?? `${job.name}.${job.timestamp}`);
      if (skipped) log("transactional mail skipped", { kind: job.data.kind, reason: skipped });
      return skipped ?? "sent";
    },
    workerOptions(deps.queuePrefix, deps.connection, {
      concurrency: deps.concurrency ?? 4,
    }),
  );
  worker.on("failed", (job, error) =>
    log("transactional mail failed", {
      kind: job?.data.kind,
      attempt: job?.attemptsMade,
      error: error.message,
    }),
  );
  worker.on("error", (error) => log("transactional worker error", { error: error.message }));
  const purge = () =>
    purgePending(deps.db).then(
      (n) => n > 0 && log("deleted unconfirmed pending subscribers", { count: n }),
      (error: Error) => log("purge of pending subscribers failed", { error: error.message }),
    );
  void purge();
  const timer = setInterval(purge, deps.purgeEveryMs ?? 3600_000);
  timer.unref();
  return {
    worker,
    async close() {
      clearInterval(timer);
      await worker.close();
      deps.mailer.close();
      await deps.connection.quit().catch(() => deps.connection.disconnect());
    },
  };
}
