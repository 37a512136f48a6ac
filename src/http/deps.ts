import type { Queue } from "bullmq";
import type { Context } from "hono";
import type { Logger } from "pino";
import type { Db } from "../db/database.js";
import type { DoctorReport } from "../doctor/check.js";
import type { Language } from "../i18n/catalogue.js";
import type { Newsletter } from "../newsletter.js";
import type { PlanDeps } from "../sending/plan.js";
import type { RateLimit } from "../sending/relay-rate.js";
import type { Notify } from "../subscribers/notify.js";
import type { RateLimiter } from "./request.js";
import type { TrackingDeps } from "./tracking.js";
import type { WebhookDeps } from "./webhooks.js";

/** What the HTTP app needs, wired once by `digest serve` (or a test). */
export interface AppDeps {
  db: Db;
  /** Queues transactional mail (awaited: a Redis failure becomes a 503, never a silent 202). */
  notify: Notify;
  secret: string;
  newsletter: Newsletter;
  /** PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  /** Unset: the admin API answers 401 to everyone. */
  adminToken?: string;
  /** Per-IP limit on POST /subscribe. */
  limiter: RateLimiter;
  /** Per-IP limit on the token pages (/confirm, /manage, /unsubscribe); default: in memory. */
  pageLimiter?: RateLimiter;
  /** The client's address (see `clientAddress` in request.ts: TRUSTED_PROXIES). */
  clientIp: (c: Context) => string | undefined;
  /** False when TRUSTED_PROXIES names no proxy: the first request with X-Forwarded-For is warned about. */
  proxiesTrusted?: boolean;
  /** Removes an erased reader's transactional jobs from the queue; off when absent. */
  forgetJobs?: (subscriberId: string) => Promise<unknown>;
  /** METRICS_TOKEN: /metrics needs it as a bearer token; unset, /metrics answers loopback only. */
  metricsToken?: string;
  log: Pick<Logger, "error" | "warn" | "info">;
  /** Starting and steering sends (`/api/issues/<id>/sends`, `/api/sends/<id>`); off when absent. */
  sending?: PlanDeps;
  /** The shared sending rate in force and why (relay throttling), for the console's send page. */
  rateLimit?: () => Promise<RateLimit>;
  /** The From readers see (MAIL_FROM, else the newsletter's), shown on the console's send form. */
  mailFrom?: string;
  /** IANA zone for times the staff console shows and reads (TIMEZONE); UTC when absent. */
  timezone?: string;
  /** Queues shown by the BullMQ dashboard at /admin/queues; off when absent. */
  dashboardQueues?: Queue[];
  /** Provider webhooks at /webhooks/*; all answer 404 when absent. */
  webhooks?: WebhookDeps;
  /** `digest doctor`'s checks on this install's settings, for the console's /admin/doctor; off when absent. */
  doctor?: () => Promise<DoctorReport>;
  /** TRACK_CLICKS, TRACK_OPENS: whether `/r/` and `/o/` record events (they answer either way). */
  tracking?: TrackingDeps;
  /** LANGUAGES: the reader pages' languages, the first the default; English only when absent. */
  languages?: readonly [Language, ...Language[]];
  /** Messages read from the bounce mailbox since start, by result (for /metrics). */
  bounceMailboxCounts?: () => Record<string, number>;
}
