import { randomUUID } from "node:crypto";
import type { Db } from "../db/database.js";
import type { DeliveryBatchJob } from "../queues.js";
import { type SendKey, signClick, signOpen } from "../tracking/token.js";
import type { BackoffSettings } from "./backoff.js";
import { checkBreakers } from "./breaker-trip.js";
import type { BreakerSettings } from "./breakers.js";
import { type Claimed, type ClaimSettings, claimDue, renewLease } from "./claim.js";
import { finishIfDone } from "./finish.js";
import type { MailIdentity } from "./identity.js";
import type { Mailer } from "./mailer.js";
import { failedOutcome, type Outcome, sentOutcome, unbuiltOutcome } from "./outcome.js";
import { commitOutcomes } from "./outcome-write.js";
import { pauseForRelayFault, pauseOnPolicyFailures, pauseWithReason } from "./pause-policy.js";
import type { RateLimiter } from "./rate.js";
import { messageId, readerLinks, returnPath } from "./reader-links.js";
import type { RelayRate } from "./relay-rate.js";
import { type SendCache, type SendContext, UnapprovedCopyError } from "./send-cache.js";
import { type MessageBuffers, type ReaderTracking, type Spliced, splice } from "./template.js";

/**
 * One batch job: claim due rows (claim.ts), send them at the shared rate, decide each row's outcome
 * once (outcome.ts), then commit them (outcome-write.ts). A row is only ever `sent` after the
 * server's 250; a worker that dies in between leaves it `sending` until its lease runs out, and the
 * reconciler sends it again as ambiguous.
 */
export interface DeliverSettings extends BackoffSettings {
  secret: string;
  leaseSeconds: number;
  softBounceLimit: number;
  /** Rows claimed per round: small enough that pause/cancel bite within about a second. */
  claimSize: number;
  /** Policy (5.7.x) failures within five minutes that pause the send. */
  policyPauseAfter: number;
  /** COMPLAINT_PAUSE_RATE and BOUNCE_PAUSE_RATE (breakers.ts). */
  breakers: BreakerSettings;
  /**
   * Messages of one claim handed to SMTP at a time: a couple per pool connection keeps the pool
   * busy, and a message built just before its turn dies young instead of waiting in the pool's
   * queue long enough to be promoted to the old generation (that was most of a worker's RSS).
   */
  inFlight?: number;
}

export interface DeliverDeps {
  db: Db;
  mailer: Mailer;
  identity: MailIdentity;
  rate: RateLimiter;
  /** Where throttled and clean answers move the rate all workers share; absent: SEND_RATE only. */
  relayRate?: RelayRate;
  /** Who holds a claim: unique per worker process. */
  owner: string;
  settings: DeliverSettings;
  sends: SendCache;
  /** Reused message buffers; without them every message is a fresh allocation. */
  buffers?: MessageBuffers;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Sends whose complaint warning this process has logged already (once each, not per claim). */
  warnedSends?: Set<string>;
}

export interface BatchResult {
  sent: number;
  deferred: number;
  failed: number;
  bounced: number;
}

export async function deliverBatch(deps: DeliverDeps, job: DeliveryBatchJob): Promise<BatchResult> {
  const totals: BatchResult = { sent: 0, deferred: 0, failed: 0, bounced: 0 };
  // Each claim is held under its own name. Jobs of one worker run side by side, and one job claims
  // round after round: a row whose lease ran out can be re-claimed by the next round of the same
  // job while the round that lost it is still finishing, and that round's outcome write ("lease
  // ran out") must match nothing, or it would overwrite the new claim and strand the row.
  const run = `${deps.owner}/${randomUUID().slice(0, 8)}`;
  let round = 0;
  const settings = { leaseSeconds: deps.settings.leaseSeconds, claimSize: deps.settings.claimSize };
  // One claim's outcomes are written while the next claim goes out, so SMTP does not wait for
  // Postgres. Crash safety is unchanged: those rows stay `sending` under our lease until the write
  // lands, and at most one write is in flight, so a crash leaves at most two claims ambiguous.
  let committing: Promise<void> = Promise.resolve();
  // Built (and its text checked against the approved fingerprint) before any row is claimed: a
  // send whose copy is not the approved text pauses here, with every reader still `queued`.
  try {
    await deps.sends.get(job.sendId);
  } catch (error) {
    if (!(error instanceof UnapprovedCopyError)) throw error;
    await pauseWithReason(deps.db, job.sendId, error.message);
    deps.log?.("send paused: its text is not the approved one", { sendId: job.sendId });
    return totals;
  }
  try {
    for (;;) {
      // Claims hold about a second of mail at the rate in force: while the relay throttles us, a
      // claim sized for SEND_RATE would wait for tokens longer than its lease can be held.
      const share = Math.min(1, deps.rate.share?.() ?? 1);
      const claim = { ...settings, owner: `${run}.${++round}` };
      const rows = await claimDue(
        deps.db,
        { ...claim, claimSize: Math.max(1, Math.ceil(claim.claimSize * share)) },
        job,
      );
      if (rows.length === 0) break;
      // Renewed until the outcomes are written: waiting for the send rate (or for Postgres) must
      // never let the reconciler hand rows this job holds, sent or not, to another job.
      const lease = holdLease(deps.db, claim, rows);
      let outcomes: Awaited<ReturnType<typeof sendAll>>;
      try {
        const send = await deps.sends.get(job.sendId);
        outcomes = await sendAll(deps, send, rows, lease);
      } catch (error) {
        lease.stop();
        throw error;
      }
      await committing;
      committing = commit(deps, claim.owner, job, rows, outcomes, totals).finally(() => lease.stop());
      // Awaited on the next round or below; this only keeps a failure from being "unhandled" meanwhile.
      committing.catch(() => {});
    }
  } finally {
    await committing;
  }
  await finishIfDone(deps.db, job.sendId);
  return totals;
}

async function commit(
  deps: DeliverDeps,
  owner: string,
  job: DeliveryBatchJob,
  rows: Claimed[],
  outcomes: Outcome[],
  totals: BatchResult,
): Promise<void> {
  await commitOutcomes(
    {
      db: deps.db,
      owner,
      softBounceLimit: deps.settings.softBounceLimit,
      deferHorizonSeconds: deps.settings.deferHorizonSeconds,
    },
    rows,
    outcomes,
  );
  for (const o of outcomes) totals[o.status]++;
  const fault = outcomes.find((o) => o.relayFault)?.relayFault;
  if (fault) await pauseForRelayFault(deps.db, job.sendId, fault);
  if (outcomes.some((o) => o.failure?.policy))
    await pauseOnPolicyFailures(deps.db, job.sendId, deps.settings.policyPauseAfter);
  await judgeSend(deps, job.sendId);
}

/**
 * Between claims, the breakers judge the send on its rows as they are now: this claim's SMTP
 * refusals just committed, and complaints and bounces that came in meanwhile by any channel
 * (inbound mail, webhooks, the mailbox). A tripped breaker pauses the send, so the next claim of
 * every worker finds nothing to take.
 */
async function judgeSend(deps: DeliverDeps, sendId: string): Promise<void> {
  const { tripped, warning } = await checkBreakers(deps.db, sendId, deps.settings.breakers);
  if (tripped)
    deps.log?.("send paused by a circuit breaker", {
      sendId,
      breaker: tripped.breaker,
      reason: tripped.reason,
    });
  if (warning && !deps.warnedSends?.has(sendId)) {
    deps.warnedSends?.add(sendId);
    deps.log?.("complaint warning", { sendId, warning });
  }
}

interface HeldLease {
  /** Rows found no longer ours at a renewal. */
  lost: Set<number>;
  stop(): void;
}

/**
 * Renews the claim's lease every third of it until stopped, for at most three leases (or 30 s) in
 * all: a job that is stuck (a hung connection, say) rather than slow must still let its lease run
 * out, so the reconciler can hand its rows to a worker that is not.
 */
function holdLease(db: Db, claim: ClaimSettings, rows: Claimed[]): HeldLease {
  const ids = rows.map((r) => r.id);
  const lost = new Set<number>();
  const leaseMs = claim.leaseSeconds * 1000;
  const until = Date.now() + Math.max(3 * leaseMs, 30_000);
  const timer = setInterval(() => {
    if (Date.now() > until) return clearInterval(timer);
    renewLease(db, claim, ids).then(
      (gone) => {
        for (const id of gone) lost.add(id);
      },
      // A failed renewal is tried again at the next tick; the lease has two more thirds to run.
      () => {},
    );
  }, leaseMs / 3);
  timer.unref();
  return { lost, stop: () => clearInterval(timer) };
}

/** Test-send rows name an address, not a subscriber; their links carry this id. */
const noSubscriber = "00000000-0000-0000-0000-000000000000";

async function sendAll(
  deps: DeliverDeps,
  send: SendContext,
  rows: Claimed[],
  lease: HeldLease,
): Promise<Outcome[]> {
  const { identity, settings } = deps;
  const outcomes: Outcome[] = [];
  let i = 0;
  while (i < rows.length) {
    const got = await deps.rate.take(rows.length - i);
    const chunk = rows.slice(i, i + got);
    // Rows whose lease ran out anyway (the database stalled past it) may have gone to another
    // job: never send them from here. Their outcome write matches nothing; this keeps totals honest.
    for (const row of chunk.filter((r) => lease.lost.has(r.id)))
      outcomes.push({ ...unbuiltOutcome(row, new Error("lease ran out")), status: "deferred" });
    const answered = await mapLimited(
      chunk.filter((r) => !lease.lost.has(r.id)),
      settings.inFlight ?? 10,
      sendOne,
    );
    outcomes.push(...answered);
    // The relay's accepted count is what a throttled answer lowers the rate to (throttle-policy.ts).
    const accepted = answered.filter((o) => o.status === "sent").length;
    if (accepted > 0 && !answered.some((o) => o.throttled)) await advise(deps.relayRate?.clean(accepted));
    i += got;
  }
  return outcomes;

  async function sendOne(row: Claimed): Promise<Outcome> {
    let message: Spliced;
    try {
      const links = readerLinks(
        identity,
        settings.secret,
        { subscriberId: row.subscriber_id ?? noSubscriber, email: row.email },
        send.slug,
      );
      // A reader who turned tracking off gets the untracked message: plain links, no pixel.
      const tracked = row.tracking ? send.tracked : undefined;
      message = splice(
        tracked?.template ?? send.template,
        {
          ...links,
          messageId: messageId(identity, settings.secret, send.id, row.id),
          ...(tracked ? { tracking: readerTracking(identity.publicUrl, tracked.key, row.id) } : {}),
        },
        deps.buffers,
      );
    } catch (error) {
      return unbuiltOutcome(row, error);
    }
    try {
      const result = await deps.mailer.sendRaw(
        { from: returnPath(identity, settings.secret, row.id), to: [row.email] },
        message.raw,
        { dataReady: message.dataReady, parts: message.parts },
      );
      // The server has the whole message (250 to DATA): the mailer is done with these bytes. After a
      // failure they are left to the GC, as a dropped connection may still hold them.
      deps.buffers?.give(message.raw);
      return sentOutcome(row, result);
    } catch (error) {
      const outcome = failedOutcome(row, error, settings, send.startedAt);
      // At once, not after the chunk: the other jobs and workers slow down before their next take.
      if (outcome.throttled) await advise(deps.relayRate?.throttled(outcome.throttled));
      return outcome;
    }
  }
}

/** A delivery's `/r/` and `/o/` URLs, signed only when its message has the slot. */
function readerTracking(publicUrl: string, key: SendKey, deliveryId: number): ReaderTracking {
  return {
    link: (linkNo) => `${publicUrl}/r/${signClick(key, deliveryId, linkNo)}`,
    open: () => `${publicUrl}/o/${signOpen(key, deliveryId)}.gif`,
  };
}

/**
 * The shared rate is advice for pacing, not a record: if Redis cannot take it, this row's outcome
 * must still be written, and the next take() will report Redis's trouble anyway.
 */
async function advise(update: Promise<void> | undefined): Promise<void> {
  await update?.catch(() => {});
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await fn(items[at] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
