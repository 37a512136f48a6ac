import { sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { reclassifySend } from "./reclassify.js";
import { countReadership, mergeReports, type ReadershipReport } from "./report.js";

const DAY_MS = 86_400_000;

/**
 * Raw events live TRACKING_RETENTION_DAYS; a send's figures outlive them. A send whose oldest event
 * is past retention gets its final report stored in send_readership and then loses all its events,
 * in one transaction: a crash leaves either both or neither, never figures without their rows gone
 * or rows gone without figures. (Its younger events go at the same time: retention is a most.)
 */
export async function purgeExpiredEvents(
  db: Db,
  options: { retentionDays: number; now?: Date },
): Promise<{ sends: number; events: number }> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.retentionDays * DAY_MS);
  const due = await query<{ send_id: string }>(
    db,
    sql`select distinct send_id from tracking_events where at < ${cutoff.toISOString()}`,
  );
  let events = 0;
  let sends = 0;
  for (const { send_id: sendId } of due) {
    const purged = await db.transaction(async (tx) => {
      // Two workers purging at once: the second waits, then finds nothing left to do.
      await tx.execute(
        sql`select pg_advisory_xact_lock(hashtext('digest-tracking-retention'), hashtext(${sendId}))`,
      );
      const [still] = await query<{ n: number }>(
        tx,
        sql`select count(*)::int as n from tracking_events where send_id = ${sendId} and at < ${cutoff.toISOString()}`,
      );
      if (!still?.n) return 0;
      await reclassifySend(tx, sendId);
      const counted = await countReadership(tx, sendId);
      const [kept] = await query<{ report: ReadershipReport }>(
        tx,
        sql`select report from send_readership where send_id = ${sendId} for update`,
      );
      const report = kept ? mergeReports(kept.report, counted) : counted;
      await tx.execute(sql`
        insert into send_readership (send_id, report, computed_at)
        values (${sendId}, ${JSON.stringify(report)}::jsonb, now())
        on conflict (send_id) do update set report = excluded.report, computed_at = excluded.computed_at`);
      const [deleted] = await query<{ n: number }>(
        tx,
        sql`with gone as (delete from tracking_events where send_id = ${sendId} returning 1)
            select count(*)::int as n from gone`,
      );
      return deleted?.n ?? 0;
    });
    if (purged > 0) sends++;
    events += purged;
  }
  return { sends, events };
}
