import { UnrecoverableError, Worker } from "bullmq";
import { eq } from "drizzle-orm";
import type { Redis } from "ioredis";
import type { Db } from "../src/db/database.js";
import { type Subscriber, subscribers } from "../src/db/schema.js";
import type { Newsletter } from "../src/newsletter.js";
import type { MailIdentity } from "../src/sending/identity.js";
import type { Mailer } from "../src/sending/mailer.js";
import { bullPrefix, queueNames, type TransactionalJob } from "../src/queues.js";
import { readerLinks } from "../src/sending/reader-links.js";
import { composeTransactional } from "../src/sending/transactional.js";
import { purgePending } from "../src/subscribers/lifecycle.js";
import { isSuppressed } from "../src/subscribers/suppression.js";
import { signSubscriberToken } from "../src/subscribers/tokens.js";

/**
 * The worker of the `transactional` queue: confirmation, welcome and goodbye mails. A job names a
 * subscriber only; the worker re-reads the row and does nothing when the mail no longer fits (a
 * confirm mail for a reader who is already active, anything to a suppressed address). SMTP 4xx and
 * network errors are retried with the job's backoff; a 5xx answer will not get better, so it is
 * `UnrecoverableError`. It also deletes pending rows nobody confirmed within 30 days, hourly.
 */
export interface TransactionalWorkerDeps {
  db: Db;
  mailer: Mailer;
  /** A connection made with `redisConnection(settings, "worker")`; closed by `close()`. */
  connection: Redis;
  queuePrefix: string;
  secret: string;
  identity: MailIdentity;
  newsletter: Newsletter;
  concurrency?: number;
  purgeEveryMs?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface TransactionalWorker {
  worker: Worker<TransactionalJob>;
  /** Phase one: take no new jobs and finish the ones in flight. Phase two: close SMTP and Redis. */
  close(): Promise<void>;
}

/** Why a job ended without a mail, or undefined when the mail went out. */
export type SkipReason = "gone" | "status" | "suppressed";

export async function sendTransactional(
  deps: Omit<TransactionalWorkerDeps, "connection" | "queuePrefix">,
  job: TransactionalJob,
  key: string,
): Promise<SkipReason | undefined> {
  const { renderTransactional } = await import("../src/issues/transactional.js");
  const [row] = await deps.db.select().from(subscribers).where(eq(subscribers.id, job.subscriberId));
  if (!row) return "gone";
  if (!fits(job.kind, row)) return "status";
  if (await isSuppressed(deps.db, row.email)) return "suppressed";
  const base = deps.identity.publicUrl;
  const links = readerLinks(deps.identity, deps.secret, { subscriberId: row.id, email: row.email }, "");
  const mail = await renderTransactional(
    job.kind === "confirm"
      ? {
          kind: "confirm",
          confirmUrl: `${base}/confirm/${signSubscriberToken(deps.secret, "confirm", row.id)}`,
          via: viaLabel(row),
        }
      : job.kind === "welcome"
        ? {
            kind: "welcome",
            name: row.name ?? undefined,
            archiveUrl: `${base}/`,
            manageUrl: links.manageUrl,
            unsubscribeUrl: links.unsubscribeUrl,
          }
        : { kind: "goodbye", resubscribeUrl: links.manageUrl },
    deps.newsletter,
  );
  const message = await composeTransactional({
    identity: deps.identity,
    kind: job.kind,
    to: row.email,
    mail,
    links,
    key,
  });
  try {
    await deps.mailer.sendRaw(message.envelope, message.raw);
  } catch (error) {
    const code = (error as { responseCode?: number }).responseCode;
    if (code !== undefined && code >= 500) {
      throw new UnrecoverableError(`SMTP refused the ${job.kind} mail: ${(error as Error).message}`);
    }
    throw error;
  }
  return undefined;
}

function fits(kind: TransactionalJob["kind"], row: Subscriber): boolean {
  if (kind === "confirm") return row.status === "pending";
  if (kind === "welcome") return row.status === "active";
  return row.status === "unsubscribed";
}

function viaLabel(row: Subscriber): string {
  switch (row.consentSource) {
    case "email":
      return "an email";
    case "web":
      return "the web form";
    default:
      return "the newsletter's staff";
  }
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
    {
      connection: deps.connection,
      prefix: bullPrefix(deps.queuePrefix),
      concurrency: deps.concurrency ?? 4,
    },
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
