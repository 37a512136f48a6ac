import { type SQL, sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import type { TrackingClass, TrackingKind } from "../db/schema.js";
import { classifyDelivery, type DeliveryEvent, type Verdict } from "./classify.js";

/**
 * The recording route stores each request with the verdict it earns by itself (one insert, no
 * reads). The rules that need a delivery's other requests (a canary burst, many links at once) can
 * only run once those requests exist, so they run here, over the raw rows, and write back the rows
 * whose verdict changed: after a pass the stored rule is always the one that decided.
 *
 * Why here and not in the route: the burst a click belongs to is often not complete when the click
 * arrives (the canary may be fetched last). Why not only a periodic job: a report must be right when
 * asked for, so `digest report` and the console run a pass for the send they show; the worker's
 * upkeep runs one for every send with new events, so plots and metrics over many sends agree.
 */

/** Deliveries per read: one page's events fit in memory whatever the send's size. */
const DELIVERIES_PER_PAGE = 1_000;
const ROWS_PER_UPDATE = 1_000;

interface EventRow extends Record<string, unknown> {
  id: number;
  delivery: number;
  kind: TrackingKind;
  method: string;
  ip: string | null;
  user_agent: string | null;
  at: Date | string;
  link_no: number | null;
  canary: boolean;
  sent_at: Date | string | null;
  class: TrackingClass;
  rule: string;
}

/**
 * Runs the delivery rules over one send's raw events; returns how many rows changed verdict.
 *
 * Only deliveries a delivery rule can touch are read: those with a canary click or clicks on two
 * different links. Every other row already holds its final verdict, the one its request earned by
 * itself when it was stored. `everything` reads every delivery with events instead, so verdicts
 * stored under older rules or data (agents.json, proxy-ranges.json) are brought up to date: the
 * worker does that once when it starts, which is when new rules arrive.
 */
export async function reclassifySend(
  db: Db,
  sendId: string,
  options: { everything?: boolean } = {},
): Promise<number> {
  const deliveries = await query<{ delivery: number }>(
    db,
    options.everything
      ? sql`select distinct delivery_id::float8 as delivery from tracking_events where send_id = ${sendId}`
      : sql`
          select e.delivery_id::float8 as delivery
          from tracking_events e
          left join send_links l on l.send_id = e.send_id and l.link_no = e.link_no
          where e.send_id = ${sendId} and e.kind = 'click'
          group by e.delivery_id
          having bool_or(coalesce(l.canary, false)) or count(distinct e.link_no) >= 2`,
  );
  const ids = deliveries.map((d) => d.delivery).sort((a, b) => a - b);
  let changed = 0;
  for (let i = 0; i < ids.length; i += DELIVERIES_PER_PAGE) {
    const page = ids.slice(i, i + DELIVERIES_PER_PAGE);
    const rows = await query<EventRow>(
      db,
      sql`
        select e.id::float8 as id, e.delivery_id::float8 as delivery, e.kind, e.method, e.ip,
               e.user_agent, e.at, e.link_no, coalesce(l.canary, false) as canary, d.sent_at,
               e.class, e.rule
        from tracking_events e
        join deliveries d on d.id = e.delivery_id
        left join send_links l on l.send_id = e.send_id and l.link_no = e.link_no
        where e.delivery_id = any(${`{${page.join(",")}}`}::bigint[]) and e.send_id = ${sendId}
        order by e.delivery_id, e.at, e.id`,
    );
    const updates: { id: number; verdict: Verdict }[] = [];
    for (const events of byDelivery(rows)) {
      const verdicts = classifyDelivery(events.map(toEvent));
      for (const row of events) {
        const verdict = verdicts.get(row.id);
        if (verdict && (verdict.class !== row.class || verdict.rule !== row.rule))
          updates.push({ id: row.id, verdict });
      }
    }
    for (let j = 0; j < updates.length; j += ROWS_PER_UPDATE)
      await writeVerdicts(db, updates.slice(j, j + ROWS_PER_UPDATE));
    changed += updates.length;
  }
  return changed;
}

function* byDelivery(rows: readonly EventRow[]): Generator<EventRow[]> {
  let group: EventRow[] = [];
  for (const row of rows) {
    if (group.length > 0 && group[0]?.delivery !== row.delivery) {
      yield group;
      group = [];
    }
    group.push(row);
  }
  if (group.length > 0) yield group;
}

function toEvent(row: EventRow): DeliveryEvent {
  return {
    id: row.id,
    kind: row.kind,
    method: row.method,
    ip: row.ip,
    userAgent: row.user_agent,
    at: new Date(row.at),
    linkNo: row.link_no,
    canary: row.canary,
    deliveredAt: row.sent_at === null ? null : new Date(row.sent_at),
  };
}

/** One UPDATE ... FROM (VALUES ...) per batch: a pass over a big send is a few statements. */
async function writeVerdicts(db: Db, updates: readonly { id: number; verdict: Verdict }[]): Promise<void> {
  if (updates.length === 0) return;
  const values: SQL[] = updates.map((u) => sql`(${u.id}::bigint, ${u.verdict.class}, ${u.verdict.rule})`);
  await db.execute(sql`
    update tracking_events t set class = v.class, rule = v.rule
    from (values ${sql.join(values, sql`, `)}) as v(id, class, rule)
    where t.id = v.id`);
}

/**
 * Sends with events recorded after `afterId` (the highest id a previous pass saw), and the highest
 * id now: the worker's upkeep reclassifies only what changed since its last pass.
 */
export async function sendsWithEventsAfter(
  db: Db,
  afterId: number,
): Promise<{ sends: string[]; lastId: number }> {
  const rows = await query<{ send_id: string; last: number }>(
    db,
    sql`select send_id, max(id)::float8 as last from tracking_events where id > ${afterId} group by send_id`,
  );
  return { sends: rows.map((r) => r.send_id), lastId: Math.max(afterId, ...rows.map((r) => r.last)) };
}
