import { sql } from "drizzle-orm";
import { type Database, query } from "../db/database.js";
import { type DeliveryStatus, deliveryStatuses, type SendStatus } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { isUuid } from "../ids.js";

/**
 * A send's progress, derived from its rows (Ghost's sending-status.ts): nothing here is stored.
 * `sendingStatus` is pure, so it is tested with tiny builders; `loadSendStatus` gathers its input
 * in two small queries.
 */
export interface StatusInput {
  sendId: string;
  issueSlug: string;
  sendStatus: SendStatus;
  isTest: boolean;
  pausedReason: string | null;
  /** Rows per delivery status; missing statuses count 0. */
  counts: Partial<Record<DeliveryStatus, number>>;
  ambiguous: number;
  /** Rows that became `sent` in the last `windowSeconds`. */
  recentSent: number;
  windowSeconds: number;
}

export type SendProgress = Record<DeliveryStatus, number> & {
  sendId: string;
  issue: string;
  status: SendStatus;
  test: boolean;
  pausedReason: string | null;
  total: number;
  ambiguous: number;
  /** Messages per second over the recent window. */
  rate: number;
  /** Seconds until every remaining row is handled at the current rate; null when unknown. */
  etaSeconds: number | null;
};

export function sendingStatus(input: StatusInput): SendProgress {
  const counts = Object.fromEntries(deliveryStatuses.map((s) => [s, input.counts[s] ?? 0])) as Record<
    DeliveryStatus,
    number
  >;
  const total = deliveryStatuses.reduce((n, s) => n + counts[s], 0);
  const remaining = counts.queued + counts.sending + counts.deferred;
  const rate = input.windowSeconds > 0 ? input.recentSent / input.windowSeconds : 0;
  const etaSeconds =
    remaining === 0 ? 0 : input.sendStatus === "running" && rate > 0 ? Math.ceil(remaining / rate) : null;
  return {
    sendId: input.sendId,
    issue: input.issueSlug,
    status: input.sendStatus,
    test: input.isTest,
    pausedReason: input.pausedReason,
    ...counts,
    total,
    ambiguous: input.ambiguous,
    rate: Math.round(rate * 10) / 10,
    etaSeconds,
  };
}

/** The send's progress; without an id, the latest send's. */
export async function loadSendStatus(
  database: Database,
  sendId?: string,
  windowSeconds = 30,
): Promise<SendProgress> {
  if (sendId !== undefined && !isUuid(sendId))
    throw new DigestError("invalid", `"${sendId}" is not a send id`);
  const [send] = await query<{
    id: string;
    status: SendStatus;
    is_test: boolean;
    paused_reason: string | null;
    slug: string;
  }>(
    database.db,
    sql`select s.id, s.status, s.is_test, s.paused_reason, i.slug from sends s join issues i on i.id = s.issue_id
         ${sendId ? sql`where s.id = ${sendId}` : sql``} order by s.created_at desc limit 1`,
  );
  if (!send) throw new DigestError("not_found", sendId ? `no send ${sendId}` : "no send yet");
  const rows = await query<{
    status: DeliveryStatus;
    n: number;
    ambiguous: number;
    recent: number;
  }>(
    database.db,
    sql`
    select status, count(*)::int as n, coalesce(sum(ambiguous), 0)::int as ambiguous,
      (count(*) filter (where status = 'sent' and sent_at > now() - make_interval(secs => ${windowSeconds})))::int as recent
    from deliveries where send_id = ${send.id} group by status`,
  );
  return sendingStatus({
    sendId: send.id,
    issueSlug: send.slug,
    sendStatus: send.status,
    isTest: send.is_test,
    pausedReason: send.paused_reason,
    counts: Object.fromEntries(rows.map((r) => [r.status, r.n])),
    ambiguous: rows.reduce((n, r) => n + r.ambiguous, 0),
    recentSent: rows.reduce((n, r) => n + r.recent, 0),
    windowSeconds,
  });
}
