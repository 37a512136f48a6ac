import { sql } from "drizzle-orm";
import { Counter, Gauge, Registry } from "prom-client";
import { type Db, query } from "../db/database.js";
import { breakerKinds, subscriberStatuses, trackingClasses, trackingKinds } from "../db/schema.js";

/**
 * Prometheus metrics, one registry per app (never prom-client's global one, so two apps in one
 * process do not clash). Subscriber counts are read from the database, at most once per
 * `countsMaxAgeMs` (a count over a million rows per scrape, or per request of someone hammering
 * /metrics, is a load the database need not carry); concurrent scrapes share one query.
 */
export function createMetrics(db: Db, mailboxCounts?: () => Record<string, number>, countsMaxAgeMs = 15_000) {
  const registry = new Registry();
  if (mailboxCounts) {
    new Gauge({
      name: "digest_bounce_mailbox_messages",
      help: "Messages read from the bounce mailbox since start, by result (applied, duplicate, ignored, unparsed)",
      labelNames: ["result"],
      registers: [registry],
      collect() {
        for (const [result, n] of Object.entries(mailboxCounts())) this.set({ result }, n);
      },
    });
  }

  let counts: { at: number; rows: Promise<{ status: string; n: number }[]> } | undefined;
  const subscriberCounts = () => {
    const now = Date.now();
    if (!counts || now - counts.at >= countsMaxAgeMs) {
      const rows = query<{ status: string; n: number }>(
        db,
        sql`select status, count(*)::int as n from subscribers group by status`,
      );
      const entry = { at: now, rows };
      counts = entry;
      // A failed query is not cached: the next scrape asks again.
      rows.catch(() => {
        if (counts === entry) counts = undefined;
      });
    }
    return counts.rows;
  };
  new Gauge({
    name: "digest_subscribers",
    help: "Subscribers by status",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      const rows = await subscriberCounts();
      for (const status of subscriberStatuses) {
        this.set({ status }, rows.find((r) => r.status === status)?.n ?? 0);
      }
    },
  });
  new Gauge({
    name: "digest_sends_paused",
    help: "Paused sends by why: a circuit breaker (complaints, hard-bounces) or other (staff, 5.7.x policy, relay)",
    labelNames: ["reason"],
    registers: [registry],
    async collect() {
      // Paused sends are few (the sends table is one row per send): no cache needed.
      const rows = await query<{ reason: string; n: number }>(
        db,
        sql`select coalesce(breaker, 'other') as reason, count(*)::int as n from sends where status = 'paused' group by 1`,
      );
      for (const reason of [...breakerKinds, "other"])
        this.set({ reason }, rows.find((r) => r.reason === reason)?.n ?? 0);
    },
  });
  // Tracking events by kind and class: the rows, plus the figures kept for sends whose rows
  // retention purged, so the count does not fall when raw events go. Cached like the subscriber
  // counts: a group-by over every event per scrape is not a load to give the database.
  let tracking: { at: number; rows: Promise<{ kind: string; class: string; n: number }[]> } | undefined;
  const trackingCounts = () => {
    const now = Date.now();
    if (!tracking || now - tracking.at >= countsMaxAgeMs) {
      const rows = query<{ kind: string; class: string; n: number }>(
        db,
        sql`
          select kind, class, sum(n)::float8 as n from (
            select kind, class, count(*) as n from tracking_events group by kind, class
            union all
            select k.key as kind, c.key as class, c.value::bigint as n
            from send_readership r,
              jsonb_each(coalesce(r.report->'eventsByKind', '{}'::jsonb)) k,
              jsonb_each_text(k.value) c
          ) t group by kind, class`,
      );
      const entry = { at: now, rows };
      tracking = entry;
      rows.catch(() => {
        if (tracking === entry) tracking = undefined;
      });
    }
    return tracking.rows;
  };
  new Counter({
    name: "digest_tracking_events_total",
    help: "Tracking events (clicks and opens) by kind and class: human, scanner, privacy-proxy, unknown",
    labelNames: ["kind", "class"],
    registers: [registry],
    async collect() {
      const rows = await trackingCounts();
      this.reset();
      for (const kind of trackingKinds)
        for (const cls of trackingClasses) {
          this.inc({ kind, class: cls }, rows.find((r) => r.kind === kind && r.class === cls)?.n ?? 0);
        }
    },
  });
  const requests = new Counter({
    name: "digest_http_requests_total",
    help: "HTTP requests by method and status code",
    labelNames: ["method", "code"],
    registers: [registry],
  });
  const providerEvents = new Counter({
    name: "digest_webhook_events_total",
    help: "Provider webhook events by provider and outcome (applied, duplicate, unmatched, rejected)",
    labelNames: ["provider", "outcome"],
    registers: [registry],
  });
  return {
    registry,
    countProviderEvent(provider: string, outcome: string) {
      providerEvents.inc({ provider, outcome });
    },
    countRequest(method: string, code: number) {
      requests.inc({ method: /^[A-Z]{3,7}$/.test(method) ? method : "OTHER", code: String(code) });
    },
  };
}
