import { pino } from "pino";
import type { Database, Db } from "../../src/db/database.js";
import { type AppDeps, createApp } from "../../src/http/app.js";
import { memoryRateLimiter } from "../../src/http/request.js";
import { eventRecorder } from "../../src/tracking/record.js";
import { trackingLinks } from "../../src/tracking/resolve.js";
import { newsletter, secret } from "../sending/harness.js";

/**
 * The public app with tracking as `digest serve` wires it, over a test's database: the recorder is
 * the test's own, so it can wait until every event is written (`recorder.settled()`).
 * `db` lets a test put a slow or failing database behind the routes.
 */
export async function trackingApp(
  database: Database,
  options: { clicks?: boolean; opens?: boolean; db?: Db; publicUrl?: string } = {},
) {
  const db = options.db ?? database.db;
  const links = trackingLinks(db, secret);
  const recorder = eventRecorder(db, links, () => {});
  const deps: AppDeps = {
    db,
    notify: async () => {},
    secret,
    newsletter,
    publicUrl: options.publicUrl ?? "https://news.example.org",
    limiter: memoryRateLimiter({ limit: 100_000, windowSeconds: 3600 }),
    pageLimiter: memoryRateLimiter({ limit: 100_000, windowSeconds: 3600 }),
    clientIp: (c) => c.req.header("x-test-client") ?? "192.0.2.1",
    log: pino({ level: "silent" }),
    tracking: { clicks: options.clicks ?? true, opens: options.opens ?? true, links, recorder },
  };
  return { app: await createApp(deps), recorder, links, deps };
}
