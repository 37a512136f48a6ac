import { sql } from "drizzle-orm";
import { Counter, Gauge, Registry } from "prom-client";
import { type Db, query } from "../db/database.js";
import { subscriberStatuses } from "../db/schema.js";

/**
 * Prometheus metrics, one registry per app (never prom-client's global one, so two apps in one
 * process do not clash). Subscriber counts are read from the database at scrape time, not kept.
 */
export function createMetrics(db: Db) {
  const registry = new Registry();
  new Gauge({
    name: "digest_subscribers",
    help: "Subscribers by status",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      const rows = await query<{ status: string; n: number }>(
        db,
        sql`select status, count(*)::int as n from subscribers group by status`,
      );
      for (const status of subscriberStatuses) {
        this.set({ status }, rows.find((r) => r.status === status)?.n ?? 0);
      }
    },
  });
  const requests = new Counter({
    name: "digest_http_requests_total",
    help: "HTTP requests by method and status code",
    labelNames: ["method", "code"],
    registers: [registry],
  });
  return {
    registry,
    countRequest(method: string, code: number) {
      requests.inc({ method: /^[A-Z]{3,7}$/.test(method) ? method : "OTHER", code: String(code) });
    },
  };
}
