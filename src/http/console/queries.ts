import { type SQL, sql } from "drizzle-orm";
import { type Database, type Db, query } from "../../db/database.js";
import { countAudience } from "../../sending/audience.js";
import { loadSendStatus, type SendProgress } from "../../sending/status.js";
import type { ConsoleDeps } from "./deps.js";

/** What the console pages read. Counts are derived by queries, never stored. */
const rows = async <T>(db: Db, statement: SQL) => await query<T>(db, statement);

/**
 * The status JSON of one send, as `digest status --json` prints it: the one place the console asks,
 * so the SSE stream and the send page follow any change to that shape.
 */
export async function sendStatusJson(deps: ConsoleDeps, sendId: string): Promise<SendProgress> {
  return loadSendStatus(databaseOf(deps), sendId, deps.rateLimit ? { rateLimit: deps.rateLimit } : {});
}

/** The service's Database seam (the sending one when wired, else a view over `deps.db`). */
function databaseOf(deps: ConsoleDeps): Database {
  return (
    deps.sending?.database ?? {
      db: deps.db,
      kind: "postgres" as const,
      query: <T extends Record<string, unknown>>(s: SQL) => rows<T>(deps.db, s),
      close: async () => {},
    }
  );
}

/** The readers a real send started now would mail: the count staff type back (sending/audience.ts). */
export function activeReaderCount(deps: ConsoleDeps): Promise<number> {
  return countAudience(databaseOf(deps));
}

export type IssueState = "draft" | "scheduled" | "published";

export interface IssueSummary {
  id: string;
  slug: string;
  volume: string;
  subject: string;
  issue_date: string;
  updated_at: Date;
  state: IssueState;
  sends: number;
}

export async function issueSummaries(db: Db, limit = 100): Promise<IssueSummary[]> {
  const found = await rows<Omit<IssueSummary, "updated_at"> & { updated_at: string | Date }>(
    db,
    sql`select i.id, i.slug, i.volume, i.subject, i.issue_date, i.updated_at,
      case when i.published_at is not null or exists (select 1 from sends s where s.issue_id = i.id and not s.is_test
             and s.status in ('running', 'paused', 'done')) then 'published'
           when exists (select 1 from sends s where s.issue_id = i.id and not s.is_test and s.status = 'scheduled')
             then 'scheduled'
           else 'draft' end as state,
      (select count(*)::int from sends s where s.issue_id = i.id) as sends
    from issues i order by i.updated_at desc limit ${limit}`,
  );
  return found.map((r) => ({ ...r, updated_at: new Date(r.updated_at) }));
}

export interface SendSummary {
  id: string;
  slug: string;
  status: string;
  is_test: boolean;
  scheduled_at: Date;
  /** Scheduled, and its issue changed after approval: it waits for an admin. */
  needs_approval: boolean;
  total: number;
  done: number;
  failed: number;
}

export async function recentSends(db: Db, issueId?: string, limit = 10): Promise<SendSummary[]> {
  const found = await rows<Omit<SendSummary, "scheduled_at"> & { scheduled_at: string | Date }>(
    db,
    // The sends are picked first; then one pass over each one's deliveries counts all three.
    sql`select s.id, s.slug, s.status, s.is_test, s.scheduled_at, s.needs_approval, n.total, n.done, n.failed
    from (
      select s.id, i.slug, s.status, s.is_test, s.scheduled_at, s.created_at,
        (s.status = 'scheduled' and s.unapproved_reason is not null) as needs_approval
      from sends s join issues i on i.id = s.issue_id
      ${issueId ? sql`where s.issue_id = ${issueId}` : sql``}
      order by s.created_at desc limit ${limit}
    ) s
    cross join lateral (
      select count(*)::int as total,
        (count(*) filter (where d.status in ('sent', 'skipped')))::int as done,
        (count(*) filter (where d.status in ('failed', 'bounced')))::int as failed
      from deliveries d where d.send_id = s.id
    ) n
    order by s.created_at desc`,
  );
  return found.map((r) => ({ ...r, scheduled_at: new Date(r.scheduled_at) }));
}

export async function subscriberCounts(db: Db): Promise<Record<string, number>> {
  const found = await rows<{ status: string; n: number }>(
    db,
    sql`select status, count(*)::int as n from subscribers group by status`,
  );
  return Object.fromEntries(found.map((r) => [r.status, r.n]));
}

export interface WeekGrowth {
  week: string;
  joined: number;
  left: number;
}

/** New confirmed readers and readers who left, per ISO week, for the last `weeks` weeks. */
export async function growthByWeek(db: Db, weeks = 8): Promise<WeekGrowth[]> {
  return rows<WeekGrowth>(
    db,
    // One grouped pass per column over the subscribers since the first week, joined to the weeks.
    sql`with w as (
        select generate_series(date_trunc('week', now()) - make_interval(weeks => ${weeks - 1}),
                               date_trunc('week', now()), interval '1 week') as start),
      joins as (
        select date_trunc('week', s.confirmed_at) as start, count(*)::int as n from subscribers s
        where s.confirmed_at >= (select min(start) from w) group by 1),
      leaves as (
        select date_trunc('week', s.unsubscribed_at) as start, count(*)::int as n from subscribers s
        where s.unsubscribed_at >= (select min(start) from w) group by 1)
      select to_char(w.start, 'YYYY-MM-DD') as week,
        coalesce(j.n, 0)::int as joined, coalesce(l.n, 0)::int as left
      from w left join joins j on j.start = w.start left join leaves l on l.start = w.start
      order by w.start desc`,
  );
}

export interface BounceView {
  created_at: Date;
  type: string;
  feedback_type: string | null;
  reason: string | null;
  status: string | null;
  diagnostic: string | null;
  source: string;
  email: string | null;
  send_id: string | null;
}

/** Recent bounces and complaints, with the reader's address; for one send when `sendId` is given. */
export async function recentBounces(db: Db, sendId?: string, limit = 50): Promise<BounceView[]> {
  const found = await rows<Omit<BounceView, "created_at"> & { created_at: string | Date }>(
    db,
    sql`select b.created_at, b.type, b.feedback_type, b.reason, b.status, b.diagnostic, b.source,
      coalesce(sub.email, d.address) as email, d.send_id
    from bounces b left join deliveries d on d.id = b.delivery_id left join subscribers sub on sub.id = b.subscriber_id
    ${sendId ? sql`where d.send_id = ${sendId}` : sql``}
    order by b.created_at desc limit ${limit}`,
  );
  return found.map((r) => ({ ...r, created_at: new Date(r.created_at) }));
}
