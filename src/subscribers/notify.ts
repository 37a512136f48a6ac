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
