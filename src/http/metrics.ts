import { sql } from "drizzle-orm";
import { Counter, Gauge, Registry } from "prom-client";
import { type Db, query } from "../db/database.js";
import { breakerKinds, subscriberStatuses } from "../db/schema.js";

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
