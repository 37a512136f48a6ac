import { sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { type TrackingClass, type TrackingKind, trackingClasses, trackingKinds } from "../db/schema.js";
import { reclassifySend } from "./reclassify.js";

/**
 * A send's readership (SPEC §3 `digest report`): per story, the readers who clicked (people only,
 * and everything that clicked); opens as human-likely and machine/proxy; events by class.
 * Counted from the raw events while they exist, else read from the figures kept in
 * send_readership when retention purged them.
 */
export interface ReadershipReport {
  sendId: string;
  /** Deliveries sent (the `delivered` of the JSON). */
  delivered: number;
  stories: { anchor: string; headline: string; humanClickers: number; allClickers: number }[];
  /** Deliveries clicked through by a person, on any link: the click-to-delivery rate's numerator. */
  humanClickers: number;
  /**
   * Deliveries opened: by a person (a person's open, or a person's click, which proves an open
   * that a privacy proxy hid), or only by machines and proxies.
   */
  opens: { humanLikely: number; machine: number };
  events: Record<TrackingClass, number>;
  /** The events by kind and class, kept so /metrics still counts purged events. */
  eventsByKind: Record<TrackingKind, Record<TrackingClass, number>>;
}

export interface Readership {
  report: ReadershipReport;
  /** "events" while raw events exist; "snapshot" once retention purged them. */
  source: "events" | "snapshot";
  /** False when the send carried no tracked link or pixel and nothing was recorded. */
  tracked: boolean;
}

/** The SPEC's `--json` object (and the unique human clickers behind the click-to-delivery rate). */
export function reportJson(report: ReadershipReport) {
  const { sendId, delivered, stories, humanClickers, opens, events } = report;
  return { sendId, delivered, stories, humanClickers, opens, events };
}

export function clickRate(report: ReadershipReport): number | null {
  return report.delivered === 0 ? null : report.humanClickers / report.delivered;
}

/**
 * Reclassifies the send's events (so every stored rule is the deciding one), then counts them.
 * `reclassify: false` counts the stored verdicts as they are: the console's page view does, since
 * the worker's upkeep reclassifies every send with new events each RECONCILE_SECONDS, and a pass
 * over a big send is seconds a page need not wait.
 */
export async function readershipOf(
  db: Db,
  sendId: string,
  options: { reclassify?: boolean } = {},
): Promise<Readership> {
  const [kept] = await query<{ report: ReadershipReport }>(
    db,
    sql`select report from send_readership where send_id = ${sendId}`,
  );
  if (options.reclassify !== false) await reclassifySend(db, sendId);
  const counted = await countReadership(db, sendId);
  if (kept) return { report: mergeReports(kept.report, counted), source: "snapshot", tracked: true };
  const report = counted;
  const [links] = await query<{ n: number }>(
    db,
    sql`select count(*)::int as n from send_links where send_id = ${sendId}`,
  );
  const anyEvent = Object.values(report.events).some((n) => n > 0);
  return { report, source: "events", tracked: (links?.n ?? 0) > 0 || anyEvent };
}

/** The figures from the stored verdicts (run reclassifySend first for final ones). */
export async function countReadership(db: Db, sendId: string): Promise<ReadershipReport> {
  const [delivered] = await query<{ n: number }>(
    db,
    sql`select count(*)::int as n from deliveries where send_id = ${sendId} and status = 'sent'`,
  );
  // A story is the links that sit in it; the canary and links outside stories belong to none.
  const stories = await query<{ anchor: string; headline: string | null; human: number; all: number }>(
    db,
    sql`
      select l.story_anchor as anchor, min(l.headline) as headline,
             count(distinct e.delivery_id) filter (where e.class = 'human')::int as human,
             count(distinct e.delivery_id)::int as all
      from send_links l
      left join tracking_events e on e.send_id = l.send_id and e.link_no = l.link_no and e.kind = 'click'
      where l.send_id = ${sendId} and not l.canary and l.story_anchor is not null
      group by l.story_anchor
      order by min(l.link_no)`,
  );
  const [readers] = await query<{ clickers: number; human_likely: number; machine: number }>(
    db,
    sql`
      select count(*) filter (where human_click)::int as clickers,
             count(*) filter (where human)::int as human_likely,
             count(*) filter (where opened and not human)::int as machine
      from (
        select delivery_id,
               bool_or(class = 'human') as human,
               bool_or(class = 'human' and kind = 'click') as human_click,
               bool_or(kind = 'open') as opened
        from tracking_events where send_id = ${sendId} group by delivery_id
      ) d`,
  );
  const byClass = await query<{ kind: TrackingKind; class: TrackingClass; n: number }>(
    db,
    sql`select kind, class, count(*)::int as n from tracking_events where send_id = ${sendId} group by kind, class`,
  );
  const eventsByKind = emptyByKind();
  for (const row of byClass) eventsByKind[row.kind][row.class] = row.n;
  return {
    sendId,
    delivered: delivered?.n ?? 0,
    stories: stories.map((s) => ({
      anchor: s.anchor,
      headline: s.headline ?? s.anchor,
      humanClickers: s.human,
      allClickers: s.all,
    })),
    humanClickers: readers?.clickers ?? 0,
    opens: { humanLikely: readers?.human_likely ?? 0, machine: readers?.machine ?? 0 },
    events: sumKinds(eventsByKind),
    eventsByKind,
  };
}

export function emptyClasses(): Record<TrackingClass, number> {
  return Object.fromEntries(trackingClasses.map((c) => [c, 0])) as Record<TrackingClass, number>;
}

function emptyByKind(): Record<TrackingKind, Record<TrackingClass, number>> {
  return Object.fromEntries(trackingKinds.map((k) => [k, emptyClasses()])) as Record<
    TrackingKind,
    Record<TrackingClass, number>
  >;
}

function sumKinds(
  byKind: Record<TrackingKind, Record<TrackingClass, number>>,
): Record<TrackingClass, number> {
  const total = emptyClasses();
  for (const kind of trackingKinds) for (const c of trackingClasses) total[c] += byKind[kind][c];
  return total;
}

/**
 * Two reports of one send added together: the figures kept at a purge, and events that arrived
 * after it (a reader opening a months-old message). Unique clickers are added, so a reader who
 * clicked both before and after a purge counts twice; the raw rows that could tell are gone.
 */
export function mergeReports(kept: ReadershipReport, later: ReadershipReport): ReadershipReport {
  const eventsByKind = emptyByKind();
  for (const kind of trackingKinds)
    for (const c of trackingClasses)
      eventsByKind[kind][c] = (kept.eventsByKind?.[kind]?.[c] ?? 0) + later.eventsByKind[kind][c];
  const stories = kept.stories.map((s) => {
    const more = later.stories.find((l) => l.anchor === s.anchor);
    return {
      ...s,
      humanClickers: s.humanClickers + (more?.humanClickers ?? 0),
      allClickers: s.allClickers + (more?.allClickers ?? 0),
    };
  });
  return {
    sendId: kept.sendId,
    delivered: later.delivered,
    stories,
    humanClickers: kept.humanClickers + later.humanClickers,
    opens: {
      humanLikely: kept.opens.humanLikely + later.opens.humanLikely,
      machine: kept.opens.machine + later.opens.machine,
    },
    events: sumKinds(eventsByKind),
    eventsByKind,
  };
}

/**
 * Human clickers of the latest non-test sends, oldest first, for the console's plot: from the
 * events, or from the kept figures once they are purged.
 */
export async function humanClickersByIssue(
  db: Db,
  limit = 12,
): Promise<
  { sendId: string; slug: string; subject: string; at: Date; delivered: number; humanClickers: number }[]
> {
  const rows = await query<{
    id: string;
    slug: string;
    subject: string;
    at: Date | string;
    delivered: number;
    human: number;
  }>(
    db,
    sql`
      select s.id, i.slug, i.subject, s.created_at as at,
        coalesce((r.report->>'delivered')::int,
          (select count(*) from deliveries d where d.send_id = s.id and d.status = 'sent'))::int as delivered,
        coalesce((r.report->>'humanClickers')::int, 0)
          + (select count(distinct e.delivery_id) from tracking_events e
             where e.send_id = s.id and e.kind = 'click' and e.class = 'human')::int as human
      from sends s join issues i on i.id = s.issue_id
      left join send_readership r on r.send_id = s.id
      where not s.is_test
      order by s.created_at desc, s.id desc
      limit ${limit}`,
  );
  return rows
    .map((r) => ({
      sendId: r.id,
      slug: r.slug,
      subject: r.subject,
      at: new Date(r.at),
      delivered: r.delivered,
      humanClickers: r.human,
    }))
    .reverse();
}
