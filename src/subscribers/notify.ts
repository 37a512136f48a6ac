import type { Queue } from "bullmq";
import { type TransactionalJob, transactionalJobOptions } from "../queues.js";

/**
 * How subscriber code asks for a transactional mail: a job that carries ids only, and a job id that
 * dedupes (the same confirmation asked twice is one job). The caller awaits it, so a Redis failure
 * reaches the caller instead of vanishing behind a 202.
 */
export interface MailRequest {
  job: TransactionalJob;
  jobId: string;
}

export type Notify = (requests: MailRequest[]) => Promise<void>;

export function queueNotify(queue: Queue<TransactionalJob>): Notify {
  return async (requests) => {
    if (requests.length === 0) return;
    await queue.addBulk(
      requests.map((r) => ({
        name: r.job.kind,
        data: r.job,
        opts: { ...transactionalJobOptions, jobId: r.jobId },
      })),
    );
  };
}

export function mailRequest(kind: TransactionalJob["kind"], subscriberId: string, at: Date): MailRequest {
  return { job: { kind, subscriberId }, jobId: `${kind}-${subscriberId}-${at.getTime()}` };
}

/**
 * The reader's own unsubscribe link, asked for by an unproven mail to unsubscribe@. One per reader
 * per day: the job id names the day, and BullMQ keeps a finished job (and so refuses its id) for a
 * day, so however many forged requests arrive, the reader gets at most about one mail a day.
 */
export function unsubscribeLinkRequest(subscriberId: string, at: Date): MailRequest {
  const day = Math.floor(at.getTime() / 86_400_000);
  return {
    job: { kind: "unsubscribe-link", subscriberId },
    jobId: `unsubscribe-link-${subscriberId}-${day}`,
  };
}

/**
 * Removes every transactional job that names this reader (waiting, delayed, failed or done), after
 * an erasure: a job holds only the id, but a failed one also keeps its error for days. Returns how
 * many went. An active job is left to finish: its worker finds no row and sends nothing.
 */
export async function forgetReaderJobs(
  queue: Queue<TransactionalJob>,
  subscriberId: string,
): Promise<number> {
  const jobs = await queue.getJobs(["waiting", "delayed", "prioritized", "failed", "completed"]);
  let removed = 0;
  for (const job of jobs) {
    if (job?.data?.subscriberId !== subscriberId) continue;
    await job.remove().then(
      () => removed++,
      () => {},
    );
  }
  return removed;
}
