import { sql } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { type BreakerKind, type DeliveryStatus, deliveryStatuses, type SendStatus } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { isUuid } from "../ids.js";
import { breakerCounts } from "./breaker-trip.js";
import { type BreakerCounts, complaintWarning } from "./breakers.js";
import { reasonSql } from "./reasons.js";
import type { RateLimit } from "./relay-rate.js";
import { loadSendReport, type SendReport } from "./report.js";
import { resolveSend } from "./resolve.js";

/**
 * A send's progress, derived from its rows (Ghost's sending-status.ts): nothing here is stored.
 * `sendingStatus` is pure, so it is tested with tiny builders; `loadSendStatus` gathers its input.
 * Its result is exactly what `digest status --json` prints and what the console streams.
 */
export interface StatusInput {
  sendId: string;
  issueSlug: string;
  sendStatus: SendStatus;
  isTest: boolean;
  pausedReason: string | null;
  /** The circuit breaker that paused the send (resuming needs force); null otherwise. */
  breaker?: BreakerKind | null;
  /** What the breakers count (breaker-trip.ts); missing: nothing counted. */
  breakerCounts?: BreakerCounts;
  /** Why a scheduled send waits for an admin (its issue changed after approval); null while approved. */
  unapprovedReason?: string | null;
  /** Rows per delivery status; missing statuses count 0. */
  counts: Partial<Record<DeliveryStatus, number>>;
  ambiguous: number;
  /** Rows that became `sent` in the last `windowSeconds`, by the ledger's own `sent_at`. */
  recentSent: number;
  /** The window the rate is measured over: 10 s, or less while the send is younger than that. */
  windowSeconds: number;
  /** SEND_RATE: the time left never assumes more than this many messages per second. */
  sendRateCap?: number;
  /** Seconds until the last deferred row's next attempt (0 when none waits). */
  deferredWaitSeconds?: number;
  /** Seconds since any worker took a row of this send, while rows are due; null when none is due. */
  idleSeconds?: number | null;
  reasons?: Reason[];
  scheduledAt?: Date | null;
  startedAt?: Date | null;
  finishedAt?: Date | null;
  report?: SendReport | null;
  /** The database's clock when the rows were read: every figure here describes that moment. */
  asOf?: Date;
  /** The shared rate in force and why (relay throttling); absent when the caller cannot ask Redis. */
  rateLimit?: RateLimit | null;
}

/** Deferred and failed deliveries grouped by why: a count and one answer as it came. */
export interface Reason {
  status: "deferred" | "failed";
  reason: string;
  count: number;
  example: string;
}

export type SendProgress = Record<DeliveryStatus, number> & {
  sendId: string;
  issue: string;
  status: SendStatus;
  test: boolean;
  /** Why the send does not go on by itself: a guardrail, staff, or (scheduled) its issue changed after approval. */
  pausedReason: string | null;
  /** A scheduled send whose issue changed after approval: it starts only once an admin approves again. */
  needsApproval: boolean;
  /**
   * The circuit breakers (§6 "Guardrails"): which one paused the send (resuming then needs force),
   * the complaints and hard bounces they count, and a warning from 0.1 % complaints.
   */
  guardrails: {
    breaker: BreakerKind | null;
    complaints: number;
    hardBounces: number;
    warning: string | null;
  };
  total: number;
  ambiguous: number;
  /** Messages per second over the last 10 s. */
  rate: number;
  /** Seconds until every remaining row is handled at the current rate (capped by SEND_RATE); null when unknown. */
  secondsLeft: number | null;
  reasons: Reason[];
  /** Seconds since a worker last took work while rows wait; null when nothing is due. */
  idleSeconds: number | null;
  scheduledAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** The per-send report, once the send is done or cancelled. */
  report: SendReport | null;
  /** When the rows were read (the database's clock). */
  asOf: string | null;
  /**
   * The rate all workers share now (`inForce`), SEND_RATE (`configured`) and why they differ
   * (`reason`, e.g. "relay throttling: 454 Throttling failure: ..."); null when not known here.
   */
  rateLimit: RateLimit | null;
};

export const rateWindowSeconds = 10;

export function sendingStatus(input: StatusInput): SendProgress {
  const counts = Object.fromEntries(deliveryStatuses.map((s) => [s, input.counts[s] ?? 0])) as Record<
    DeliveryStatus,
    number
  >;
  const total = deliveryStatuses.reduce((n, s) => n + counts[s], 0);
  const remaining = counts.queued + counts.sending + counts.deferred;
  const rate = input.windowSeconds > 0 ? input.recentSent / input.windowSeconds : 0;
  const pace = Math.min(rate, input.sendRateCap ?? Number.POSITIVE_INFINITY);
  const finished = input.sendStatus === "done" || input.sendStatus === "cancelled";
  const secondsLeft =
    finished || (remaining === 0 && input.sendStatus !== "scheduled")
      ? 0
      : input.sendStatus === "running" && pace > 0
        ? Math.max(1, Math.round(remaining / pace), Math.ceil(input.deferredWaitSeconds ?? 0))
        : null;
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
  const waiting = input.sendStatus === "scheduled" ? (input.unapprovedReason ?? null) : null;
  return {
    sendId: input.sendId,
    issue: input.issueSlug,
    status: input.sendStatus,
    test: input.isTest,
    pausedReason: input.pausedReason ?? waiting,
    needsApproval: waiting !== null,
    guardrails: {
      breaker: input.sendStatus === "paused" ? (input.breaker ?? null) : null,
      complaints: input.breakerCounts?.complaints ?? 0,
      hardBounces: input.breakerCounts?.hardBounces ?? 0,
      warning: input.breakerCounts && !input.isTest ? complaintWarning(input.breakerCounts) : null,
    },
    ...counts,
    total,
    ambiguous: input.ambiguous,
    rate: Math.round(rate * 10) / 10,
    secondsLeft,
    reasons: input.reasons ?? [],
    idleSeconds: input.idleSeconds ?? null,
    scheduledAt: iso(input.scheduledAt),
    startedAt: iso(input.startedAt),
    finishedAt: iso(input.finishedAt),
    report: input.report ?? null,
    asOf: iso(input.asOf),
    rateLimit: input.rateLimit ?? null,
  };
}

export interface StatusOptions {
  /** SEND_RATE, when the caller knows it (the CLI does). */
  sendRate?: number;
  /** Asks the shared rate in force (relay-rate.ts); a failure shows as an unknown rate. */
  rateLimit?: () => Promise<RateLimit>;
}

/**
 * The `digest status --json` object for a send: `ref` is a send id, an issue slug or nothing (the
 * latest send). The console shows the same object.
 */
export async function loadSendStatus(
  database: Database,
  ref?: string,
  options: StatusOptions = {},
): Promise<SendProgress> {
  // A send id needs no resolving: the query below reads that row and says so when there is none.
  const sendId = ref !== undefined && isUuid(ref) ? ref : await resolveSend(database, ref);
  const [send] = await database.query<{
    id: string;
    status: SendStatus;
    is_test: boolean;
    paused_reason: string | null;
    breaker: BreakerKind | null;
    unapproved_reason: string | null;
    slug: string;
    scheduled_at: string | Date | null;
    started_at: string | Date | null;
    finished_at: string | Date | null;
    age: number | null;
    as_of: string | Date;
  }>(sql`select now() as as_of, s.id, s.status, s.is_test, s.paused_reason, s.breaker, s.unapproved_reason, i.slug, s.scheduled_at, s.started_at, s.finished_at,
           extract(epoch from now() - s.started_at)::float8 as age
         from sends s join issues i on i.id = s.issue_id where s.id = ${sendId}`);
  if (!send) throw new DigestError("not_found", `no send ${sendId}`);
  const rows = await database.query<{
    status: DeliveryStatus;
    n: number;
    ambiguous: number;
    recent: number;
    due: number;
    idle: number | null;
    wait: number | null;
  }>(sql`
    select status, count(*)::int as n, coalesce(sum(ambiguous), 0)::int as ambiguous,
      (count(*) filter (where status = 'sent' and sent_at > now() - make_interval(secs => ${rateWindowSeconds})))::int as recent,
      (count(*) filter (where status = 'queued' or (status = 'deferred' and next_attempt_at <= now())
        or (status = 'sending' and lease_until < now())))::int as due,
      extract(epoch from now() - max(updated_at) filter (where attempts > 0))::float8 as idle,
      extract(epoch from max(next_attempt_at) filter (where status = 'deferred') - now())::float8 as wait
    from deliveries where send_id = ${send.id} group by status`);
  const reasons = await database.query<Reason & Record<string, unknown>>(sql`
    select status, ${reasonSql(sql`last_response`)} as reason, count(*)::int as count, min(last_response) as example
    from deliveries where send_id = ${send.id} and status in ('deferred', 'failed')
    group by 1, 2 order by 3 desc, 2`);
  const age = send.age ?? 0;
  const due = rows.reduce((n, r) => n + r.due, 0);
  const touched = rows.map((r) => r.idle).filter((v): v is number => v !== null);
  const idle = touched.length > 0 ? Math.min(...touched) : age;
  const date = (v: string | Date | null) => (v === null ? null : new Date(v));
  const finished = send.status === "done" || send.status === "cancelled";
  return sendingStatus({
    sendId: send.id,
    issueSlug: send.slug,
    sendStatus: send.status,
    isTest: send.is_test,
    pausedReason: send.paused_reason,
    breaker: send.breaker,
    breakerCounts: await breakerCounts(database.db, send.id),
    unapprovedReason: send.unapproved_reason,
    counts: Object.fromEntries(rows.map((r) => [r.status, r.n])),
    ambiguous: rows.reduce((n, r) => n + r.ambiguous, 0),
    recentSent: rows.reduce((n, r) => n + r.recent, 0),
    // A send younger than the window has only had `age` seconds to send in.
    windowSeconds: Math.min(rateWindowSeconds, Math.max(1, age)),
    ...(options.sendRate ? { sendRateCap: options.sendRate } : {}),
    deferredWaitSeconds: Math.max(0, ...rows.map((r) => r.wait ?? 0)),
    idleSeconds: send.status === "running" && due > 0 ? Math.max(0, Math.floor(idle)) : null,
    reasons: reasons.map((r) => ({ status: r.status, reason: r.reason, count: r.count, example: r.example })),
    scheduledAt: date(send.scheduled_at),
    startedAt: date(send.started_at),
    finishedAt: date(send.finished_at),
    report: finished ? await loadSendReport(database, send.id) : null,
    asOf: new Date(send.as_of),
    rateLimit: options.rateLimit ? await options.rateLimit() : null,
  });
}
