import { sql } from "drizzle-orm";
import { type BounceSourceCount, bounceSources } from "../bounces/sources.js";
import type { Database } from "../db/database.js";
import { reasonSql } from "./reasons.js";

/**
 * What a finished send did, for the staff who started it: derived from the ledger and the counted
 * bounce records (one failure and one complaint per delivery, see bounces/record.ts), never stored. Unsubscribes are attributed to this send when the reader's last message
 * before unsubscribing came from it: the unsubscribe token names the reader, not the issue.
 */
export interface SendReport {
  sent: number;
  bounced: { type: "hard" | "soft"; reason: string; count: number }[];
  complaints: { feedbackType: string; count: number }[];
  unsubscribes: number;
  failed: { reason: string; count: number; example: string }[];
  /** Where the send's bounces and complaints came from (SMTP answer, inbound VERP, webhook, mailbox) and why. */
  sources: BounceSourceCount[];
  /** From the send's start to its end (or to now, while it still runs). */
  durationSeconds: number | null;
  ambiguous: number;
}

export async function loadSendReport(database: Database, sendId: string): Promise<SendReport> {
  const [totals] = await database.query<{ sent: number; ambiguous: number; duration: number | null }>(sql`
    select (select count(*) from deliveries where send_id = ${sendId} and status = 'sent')::int as sent,
      (select coalesce(sum(ambiguous), 0) from deliveries where send_id = ${sendId})::int as ambiguous,
      extract(epoch from coalesce(finished_at, now()) - started_at)::float8 as duration
    from sends where id = ${sendId}`);
  const bounced = await database.query<{ type: "hard" | "soft"; reason: string; count: number }>(sql`
    select b.type, coalesce(b.reason, 'unknown') as reason, count(distinct b.delivery_id)::int as count
    from bounces b join deliveries d on d.id = b.delivery_id
    where d.send_id = ${sendId} and b.type in ('hard', 'soft') and b.counted
    group by 1, 2 order by 3 desc, 2`);
  const complaints = await database.query<{ feedbackType: string; count: number }>(sql`
    select coalesce(b.feedback_type, 'abuse') as "feedbackType", count(distinct b.delivery_id)::int as count
    from bounces b join deliveries d on d.id = b.delivery_id
    where d.send_id = ${sendId} and b.type = 'complaint' and b.counted
    group by 1 order by 2 desc, 1`);
  const [unsubscribed] = await database.query<{ n: number }>(sql`
    select count(*)::int as n from deliveries d join subscribers s on s.id = d.subscriber_id
    where d.send_id = ${sendId} and d.status = 'sent' and s.status = 'unsubscribed'
      and s.unsubscribed_at >= d.sent_at
      and not exists (
        select 1 from deliveries later join sends ls on ls.id = later.send_id
        where later.subscriber_id = s.id and not ls.is_test and later.status = 'sent'
          and later.sent_at > d.sent_at and later.sent_at <= s.unsubscribed_at)`);
  const failed = await database.query<{ reason: string; count: number; example: string }>(sql`
    select ${reasonSql(sql`last_response`)} as reason, count(*)::int as count, min(last_response) as example
    from deliveries where send_id = ${sendId} and status = 'failed'
    group by 1 order by 2 desc, 1`);
  return {
    sent: totals?.sent ?? 0,
    bounced,
    complaints,
    unsubscribes: unsubscribed?.n ?? 0,
    failed,
    sources: await bounceSources(database.db, sendId),
    durationSeconds:
      totals?.duration === null || totals?.duration === undefined ? null : Math.round(totals.duration),
    ambiguous: totals?.ambiguous ?? 0,
  };
}
