import { sql } from "drizzle-orm";
import type { Database } from "../../src/db/database.js";
import type { TrackingKind } from "../../src/db/schema.js";
import { classifyRequest } from "../../src/tracking/classify.js";
import { addReaders, storeIssue } from "../sending/harness.js";

/** A delivered send with tracked links, built straight into the tables, and events as the routes store them. */
export const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
export const mimecast = "Mimecast URL Protect";
export const stories = [
  { anchor: "budget", headline: "The budget, line by line" },
  { anchor: "housing", headline: "Housing: what changed" },
  { anchor: "transit", headline: "Transit fares" },
];

export interface SeededSend {
  sendId: string;
  /** Delivery ids, in reader order. */
  deliveries: number[];
  sentAt: Date;
}

let readerDomains = 0;

/** A send of `readers` delivered at `sentAt`; link 0 the canary, links 1..3 one per story, 4 outside any. */
export async function seedSend(
  database: Database,
  options: { readers: number; sentAt: Date; isTest?: boolean; issueId?: string; links?: boolean },
): Promise<SeededSend> {
  const domain = `readers${readerDomains++}.test`;
  await addReaders(database, options.readers, domain);
  const issueId = options.issueId ?? (await storeIssue(database));
  const [send] = await database.query<{ id: string }>(sql`
    insert into sends (issue_id, status, is_test, started_at, finished_at, created_at)
    values (${issueId}, 'done', ${options.isTest ?? false}, ${options.sentAt.toISOString()},
            ${options.sentAt.toISOString()}, ${options.sentAt.toISOString()})
    returning id`);
  const sendId = send?.id ?? "";
  const rows = await database.query<{ id: number }>(sql`
    insert into deliveries (send_id, subscriber_id, status, sent_at)
    select ${sendId}, id, 'sent', ${options.sentAt.toISOString()} from subscribers
    where email like ${`%@${domain}`} order by email returning id::float8 as id`);
  if (options.links !== false) {
    await database.query(sql`insert into send_links (send_id, link_no, url, canary)
      values (${sendId}, 0, 'https://news.example.org/', true)`);
    for (const [i, story] of stories.entries())
      await database.query(sql`insert into send_links (send_id, link_no, url, story_anchor, headline)
        values (${sendId}, ${i + 1}, ${`https://example.org/${story.anchor}`}, ${story.anchor}, ${story.headline})`);
    await database.query(sql`insert into send_links (send_id, link_no, url)
      values (${sendId}, 4, 'https://example.org/about')`);
  }
  return { sendId, deliveries: rows.map((r) => r.id).sort((a, b) => a - b), sentAt: options.sentAt };
}

export interface Hit {
  delivery: number;
  kind?: TrackingKind;
  linkNo?: number | null;
  method?: string;
  ip?: string;
  userAgent?: string | null;
  /** Seconds after delivery. */
  after: number;
}

/** Stores events the way the routes do: one row each, with the verdict the request earns by itself. */
export async function record(database: Database, send: SeededSend, hits: readonly Hit[]): Promise<void> {
  for (const hit of hits) {
    const kind = hit.kind ?? "click";
    const linkNo = kind === "open" ? null : (hit.linkNo ?? 1);
    const at = new Date(send.sentAt.getTime() + hit.after * 1000);
    const verdict = classifyRequest({
      kind,
      method: hit.method ?? "GET",
      ip: hit.ip ?? "198.51.100.7",
      userAgent: hit.userAgent === undefined ? firefox : hit.userAgent,
      at,
      linkNo,
      canary: linkNo === 0,
      deliveredAt: send.sentAt,
    });
    await database.query(sql`
      insert into tracking_events (send_id, delivery_id, subscriber_id, kind, link_no, method, ip, user_agent, at, class, rule)
      select ${send.sendId}, d.id, d.subscriber_id, ${kind}, ${linkNo}, ${hit.method ?? "GET"}, ${hit.ip ?? "198.51.100.7"},
             ${hit.userAgent === undefined ? firefox : hit.userAgent}, ${at.toISOString()}, ${verdict.class}, ${verdict.rule}
      from deliveries d where d.id = ${hit.delivery}`);
  }
}
