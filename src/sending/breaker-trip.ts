import { sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import type { BreakerKind } from "../db/schema.js";
import {
  type AcceptedCounts,
  type BreakerCounts,
  type BreakerSettings,
  complaintWarning,
  judgeBreakers,
  type Trip,
} from "./breakers.js";

/**
 * The breakers' counts for one send, derived from its rows each time (never a stored counter):
 * sent from deliveries_send_status_idx, reports from bounces_send_counted_idx. Only counted report
 * rows count (bounces/record.ts: one failure and one complaint per delivery, whatever the channel).
 */
export async function breakerCounts(db: Db, sendId: string): Promise<BreakerCounts> {
  const [row] = await query<BreakerCounts>(
    db,
    sql`select
      (select count(*)::int from deliveries where send_id = ${sendId} and status in ('sent', 'bounced')) as "sent",
      (select count(*)::int from bounces where send_id = ${sendId} and counted and type = 'complaint'
         and coalesce(feedback_type, 'abuse') in ('abuse', 'fraud', 'opt-out')) as "complaints",
      (select count(*)::int from bounces where send_id = ${sendId} and counted and type = 'hard') as "hardBounces"`,
  );
  return row ?? { sent: 0, complaints: 0, hardBounces: 0 };
}

export interface BreakerCheck {
  /** The breaker that paused the send just now (null when none did, or the send was not running). */
  tripped: Trip | null;
  warning: string | null;
}

/**
 * Judges a running send and pauses it when a breaker trips. The pause is the same conditional
 * UPDATE as every other (control.ts, pause-policy.ts): only a `running` send moves to `paused`, so a
 * send that is done, cancelled or already paused by staff stays as it is.
 */
export async function checkBreakers(
  db: Db,
  sendId: string,
  settings: BreakerSettings,
): Promise<BreakerCheck> {
  const [send] = await query<{
    status: string;
    is_test: boolean;
    forced_sent: number | null;
    forced_complaints: number | null;
    forced_hard_bounces: number | null;
  }>(
    db,
    sql`select status, is_test, forced_sent, forced_complaints, forced_hard_bounces from sends where id = ${sendId}`,
  );
  // A test send goes to a handful of staff addresses: no rate means anything there.
  if (send?.status !== "running" || send.is_test) return { tripped: null, warning: null };
  const counts = await breakerCounts(db, sendId);
  const accepted: AcceptedCounts =
    send.forced_sent === null
      ? null
      : {
          sent: send.forced_sent,
          complaints: send.forced_complaints ?? 0,
          hardBounces: send.forced_hard_bounces ?? 0,
        };
  const trip = judgeBreakers(counts, settings, accepted);
  if (!trip) return { tripped: null, warning: complaintWarning(counts) };
  const paused = await pauseForBreaker(db, sendId, trip.breaker, trip.reason);
  return { tripped: paused ? trip : null, warning: null };
}

async function pauseForBreaker(db: Db, sendId: string, breaker: BreakerKind, reason: string) {
  const rows = await query(
    db,
    sql`update sends set status = 'paused', paused_reason = ${reason}, breaker = ${breaker}, updated_at = now()
    where id = ${sendId} and status = 'running' returning id`,
  );
  return rows.length > 0;
}
