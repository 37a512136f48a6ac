import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/**
 * The whole product's data. Postgres is the source of truth: progress, counts and rates are derived
 * from these rows by queries, never stored beside them. Status columns only move forward, enforced
 * by conditional UPDATEs in the modules that own them.
 */

export const subscriberStatuses = ["pending", "active", "unsubscribed", "bounced", "complained"] as const;
export type SubscriberStatus = (typeof subscriberStatuses)[number];
export const consentSources = ["web", "email", "import", "admin"] as const;
export type ConsentSource = (typeof consentSources)[number];

export const sendStatuses = ["scheduled", "running", "paused", "cancelled", "done"] as const;
export type SendStatus = (typeof sendStatuses)[number];
/** The circuit breakers (sending/breakers.ts) that pause a send by themselves. */
export const breakerKinds = ["complaints", "hard-bounces"] as const;
export type BreakerKind = (typeof breakerKinds)[number];

export const deliveryStatuses = [
  "queued",
  "sending",
  "sent",
  "deferred",
  "failed",
  "bounced",
  "skipped",
] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const bounceTypes = ["hard", "soft", "complaint"] as const;
/** Who made a tracking request (tracking/classify.ts decides, with the rule that decided it). */
export const trackingClasses = ["human", "scanner", "privacy-proxy", "unknown"] as const;
export type TrackingClass = (typeof trackingClasses)[number];
export const trackingKinds = ["click", "open"] as const;
export type TrackingKind = (typeof trackingKinds)[number];
export const suppressionReasons = ["bounced", "complained", "erased"] as const;
export type SuppressionReason = (typeof suppressionReasons)[number];

const inList = (column: string, values: readonly string[]) =>
  sql.raw(`${column} in (${values.map((v) => `'${v}'`).join(", ")})`);

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const subscribers = pgTable(
  "subscribers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Normalised: local part as given, domain lower-cased and in punycode. */
    email: text("email").notNull(),
    name: text("name"),
    status: text("status", { enum: subscriberStatuses }).notNull().default("pending"),
    /**
     * The consent record: source, time and client address of the request that asked first (a
     * repeated request changes none of them), then the time and address of the confirming one.
     */
    consentSource: text("consent_source", { enum: consentSources }).notNull(),
    consentAt: timestamp("consent_at", { withTimezone: true }),
    consentIp: text("consent_ip"),
    confirmedAt: timestamp("confirmed_at", { withTimezone: true }),
    confirmedIp: text("confirmed_ip"),
    unsubscribedAt: timestamp("unsubscribed_at", { withTimezone: true }),
    /**
     * When staff last lifted this reader's bounce or complaint suppression: bounces about sends
     * started before it no longer count toward SOFT_BOUNCE_LIMIT (bounces/streak.ts).
     */
    reactivatedAt: timestamp("reactivated_at", { withTimezone: true }),
    lastConfirmationAt: timestamp("last_confirmation_at", { withTimezone: true }),
    /**
     * False once the reader turned click and open tracking off on the manage page: their later mail
     * carries plain links and no pixel, whatever TRACK_CLICKS and TRACK_OPENS say.
     */
    tracking: boolean("tracking").notNull().default(true),
    /**
     * The language of the reader's pages and transactional mail (one of LANGUAGES), chosen at
     * subscribe and changed on the manage page. Null (imported or added by staff, or subscribed
     * before languages existed) is the install's default: the first of LANGUAGES at the time.
     */
    language: text("language"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("subscribers_email_key").on(sql`lower(${t.email})`),
    index("subscribers_status_idx").on(t.status),
    check("subscribers_status_check", inList("status", subscriberStatuses)),
  ],
);

/** Addresses never to mail again, kept as a hash so an erased person leaves no address behind. */
export const suppressions = pgTable(
  "suppressions",
  {
    addressHash: text("address_hash").primaryKey(),
    reason: text("reason", { enum: suppressionReasons }).notNull(),
    detail: text("detail"),
    createdAt: createdAt(),
  },
  () => [check("suppressions_reason_check", inList("reason", suppressionReasons))],
);

export const issues = pgTable("issues", {
  id: uuid("id").primaryKey().defaultRandom(),
  slug: text("slug").notNull().unique(),
  volume: text("volume").notNull(),
  subject: text("subject").notNull(),
  issueDate: text("issue_date").notNull(),
  preheader: text("preheader"),
  /** The Markdown source as staff wrote it. */
  source: text("source").notNull(),
  /** The rendition: rendered once, with placeholders for per-reader parts. */
  html: text("html").notNull(),
  text: text("text").notNull(),
  /** When its first real send started: from then on it is in the archive and its text is frozen. */
  publishedAt: timestamp("published_at", { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const sends = pgTable(
  "sends",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    issueId: uuid("issue_id")
      .notNull()
      .references(() => issues.id),
    status: text("status", { enum: sendStatuses }).notNull().default("scheduled"),
    /** A test send goes only to the given addresses and is not shown in the archive. */
    isTest: boolean("is_test").notNull().default(false),
    scheduledAt: timestamp("scheduled_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /** Bumped on every re-enqueue so BullMQ job ids of a new round never collide with old ones. */
    generation: integer("generation").notNull().default(0),
    pausedReason: text("paused_reason"),
    /** The circuit breaker that paused this send, while it is paused by one: resuming needs force. */
    breaker: text("breaker", { enum: breakerKinds }),
    /**
     * What staff accepted when they last forced a breaker-paused send on (sent messages,
     * complaints, hard bounces, all counted from the rows then): the breakers trip again only for
     * a further rise over these. A record of a decision, not a running counter; null until forced.
     */
    forcedSent: integer("forced_sent"),
    forcedComplaints: integer("forced_complaints"),
    forcedHardBounces: integer("forced_hard_bounces"),
    /**
     * The rendition this send mails, copied from its issue when an admin approved the send (for a
     * test send, when staff asked for it): an edit of the issue afterwards never reaches a reader
     * through this send. Null only on sends made before the copy existed; those mail the issue's.
     */
    subject: text("subject"),
    html: text("html"),
    text: text("text"),
    /**
     * Why a scheduled send needs an admin again: its issue changed after the approval. Null while
     * approved; a send with a reason never starts by itself.
     */
    unapprovedReason: text("unapproved_reason"),
    /**
     * The fingerprint (issues/approval.ts) of the rendition an admin approved for this send, taken
     * when they approved it. A send starts only while its copy and its issue's text both still have
     * this fingerprint, and a worker mails nothing from a copy that lost it.
     */
    approvedRendition: text("approved_rendition"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("sends_issue_idx").on(t.issueId),
    check("sends_status_check", inList("status", sendStatuses)),
    check("sends_breaker_check", inList("breaker", breakerKinds)),
  ],
);

export const deliveries = pgTable(
  "deliveries",
  {
    /** Dense and ordered, so a batch job can name a range of ids. */
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    sendId: uuid("send_id")
      .notNull()
      .references(() => sends.id, { onDelete: "cascade" }),
    /** Null for test sends and after the reader was erased. */
    subscriberId: uuid("subscriber_id").references(() => subscribers.id, { onDelete: "set null" }),
    /** Only for test sends: the address typed by staff. Regular deliveries read the subscriber row. */
    address: text("address"),
    status: text("status", { enum: deliveryStatuses }).notNull().default("queued"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }),
    leaseOwner: text("lease_owner"),
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    /** Times this row was re-sent after its worker died between the server's 250 and the commit. */
    ambiguous: integer("ambiguous").notNull().default(0),
    lastResponse: text("last_response"),
    /** The id a relay gave the message in its 250 answer, so its webhook events can be matched. */
    providerMessageId: text("provider_message_id"),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("deliveries_send_subscriber_key").on(t.sendId, t.subscriberId),
    index("deliveries_send_status_idx").on(t.sendId, t.status),
    index("deliveries_provider_message_idx").on(t.providerMessageId),
    check("deliveries_status_check", inList("status", deliveryStatuses)),
  ],
);

export const bounces = pgTable(
  "bounces",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    deliveryId: bigint("delivery_id", { mode: "number" }).references(() => deliveries.id, {
      onDelete: "set null",
    }),
    subscriberId: uuid("subscriber_id").references(() => subscribers.id, { onDelete: "set null" }),
    /** The delivery's send, so a send's breakers count its reports through one small index. */
    sendId: uuid("send_id").references(() => sends.id, { onDelete: "set null" }),
    type: text("type", { enum: bounceTypes }).notNull(),
    feedbackType: text("feedback_type"),
    reason: text("reason"),
    status: text("status"),
    diagnostic: text("diagnostic"),
    /** Where it came from: "smtp" (the server's answer while sending), "dsn", "arf", "cli". */
    source: text("source").notNull(),
    details: jsonb("details"),
    /**
     * Per delivery one failure and one complaint count, however often and by however many channels
     * they arrived (a copy is not recorded at all). False only for a report a more severe one about
     * the same delivery took the count over from (hard after soft). Counts, the soft-bounce streak
     * and the send report read only counted rows.
     */
    counted: boolean("counted").notNull().default(true),
    createdAt: createdAt(),
  },
  (t) => [
    index("bounces_subscriber_idx").on(t.subscriberId),
    index("bounces_delivery_idx").on(t.deliveryId),
    index("bounces_send_counted_idx").on(t.sendId, t.type).where(sql`${t.counted}`),
    uniqueIndex("bounces_counted_key")
      .on(t.deliveryId, sql`(${t.type} = 'complaint')`)
      .where(sql`${t.counted}`),
  ],
);

// ---- The PDF edition (issue 13) ----

/** Raw bytes. postgres.js hands back a Buffer and PGlite a Uint8Array: both become a Buffer. */
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => Buffer.from(value),
});

/**
 * Each issue's PDF edition, rendered once when the issue is stored and kept unchanged once it is
 * published. A table of its own so that the many reads of an issue row never carry its PDF along.
 */
export const issuePdfs = pgTable("issue_pdfs", {
  issueId: uuid("issue_id")
    .primaryKey()
    .references(() => issues.id, { onDelete: "cascade" }),
  pdf: bytea("pdf").notNull(),
  /** Hex SHA-256 of `pdf`: the download's ETag. */
  sha256: text("sha256").notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

// ---- Archive search and the feed's full text (issue 20) ----

/** A text-search document; written and read only through SQL (issues/story-index.ts, issues/search.ts). */
const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/**
 * Each issue's parts as the archive serves them, written when the issue is stored: position 0 is
 * the issue itself (its subject and intro, no anchor), then one row per story with its permalink
 * anchor. Plain text for search snippets, HTML for the feed's full text, and the weighted search
 * document (CJK runs already split into bigrams, see issues/search-terms.ts). The archive shows
 * only rows of published issues; a draft's rows wait here unseen.
 */
export const archiveStories = pgTable(
  "archive_stories",
  {
    issueId: uuid("issue_id")
      .notNull()
      .references(() => issues.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    anchor: text("anchor").notNull(),
    headline: text("headline").notNull(),
    body: text("body").notNull(),
    html: text("html").notNull(),
    document: tsvector("document").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.issueId, t.position] }),
    index("archive_stories_document_idx").using("gin", t.document),
  ],
);

// ---- Staff console (issue 12): accounts, setup links, sessions, login throttling, audit log ----

export const staffRoles = ["admin", "editor"] as const;
export type StaffRole = (typeof staffRoles)[number];

export const staff = pgTable(
  "staff",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email").notNull(),
    role: text("role", { enum: staffRoles }).notNull().default("editor"),
    /** `scrypt$N$r$p$salt$hash`; null until the person sets a password from the setup link. */
    passwordHash: text("password_hash"),
    /** The addresses last used for a test send, offered again next time. */
    testAddresses: text("test_addresses"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("staff_email_key").on(sql`lower(${t.email})`),
    check("staff_role_check", inList("role", staffRoles)),
  ],
);

/** One-time links printed by `digest staff add`; only a hash of the token is stored. */
export const staffSetupTokens = pgTable("staff_setup_tokens", {
  tokenHash: text("token_hash").primaryKey(),
  staffId: uuid("staff_id")
    .notNull()
    .references(() => staff.id, { onDelete: "cascade" }),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  usedAt: timestamp("used_at", { withTimezone: true }),
  createdAt: createdAt(),
});

/** Console sessions: the cookie holds a random id, the table only its hash. */
export const staffSessions = pgTable(
  "staff_sessions",
  {
    idHash: text("id_hash").primaryKey(),
    staffId: uuid("staff_id")
      .notNull()
      .references(() => staff.id, { onDelete: "cascade" }),
    csrf: text("csrf").notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    /** The absolute end, however active the session is. */
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("staff_sessions_staff_idx").on(t.staffId)],
);

/** Failed console logins, by key (`email:<hash of the address>` or `ip:<address or IPv6 /64>`), for throttling. */
export const staffLoginFailures = pgTable(
  "staff_login_failures",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    key: text("key").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("staff_login_failures_key_idx").on(t.key, t.createdAt)],
);

/** Every staff action: who, what, when, on what. The actor's email is kept if the account goes. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    staffId: uuid("staff_id").references(() => staff.id, { onDelete: "set null" }),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target"),
    detail: jsonb("detail"),
    createdAt: createdAt(),
  },
  (t) => [index("audit_log_target_idx").on(t.target), index("audit_log_created_idx").on(t.createdAt)],
);

export type Subscriber = typeof subscribers.$inferSelect;
export type Issue = typeof issues.$inferSelect;
export type Send = typeof sends.$inferSelect;
export type Delivery = typeof deliveries.$inferSelect;
export type BounceRow = typeof bounces.$inferSelect;
export type IssuePdfRow = typeof issuePdfs.$inferSelect;
export type Staff = typeof staff.$inferSelect;
export type AuditEntry = typeof auditLog.$inferSelect;

/**
 * The links of a send's rendition, numbered when the send's message is built (render once): a
 * reader's `/r/<token>` signs (delivery, link number) and redirects only to the URL stored here, so
 * no URL is ever taken from a request. Number 0 is the canary: a link people cannot see, present in
 * every tracked message, that only a machine follows.
 */
export const sendLinks = pgTable(
  "send_links",
  {
    sendId: uuid("send_id")
      .notNull()
      .references(() => sends.id, { onDelete: "cascade" }),
    linkNo: integer("link_no").notNull(),
    url: text("url").notNull(),
    /** The story the link sits in (its anchor and headline), null outside any story. */
    storyAnchor: text("story_anchor"),
    headline: text("headline"),
    canary: boolean("canary").notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.sendId, t.linkNo] })],
);

/**
 * One row per tracking request (`/r/` click or `/o/` open): the raw facts, and the class with the
 * rule that decided it. Raw rows live TRACKING_RETENTION_DAYS; a send's readership figures are kept
 * in send_readership after its rows are purged. Erasing a reader removes their rows (cascade).
 */
export const trackingEvents = pgTable(
  "tracking_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    sendId: uuid("send_id")
      .notNull()
      .references(() => sends.id, { onDelete: "cascade" }),
    deliveryId: bigint("delivery_id", { mode: "number" })
      .notNull()
      .references(() => deliveries.id, { onDelete: "cascade" }),
    subscriberId: uuid("subscriber_id").references(() => subscribers.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: trackingKinds }).notNull(),
    /** The link followed (send_links.link_no); null for an open. */
    linkNo: integer("link_no"),
    method: text("method").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    class: text("class", { enum: trackingClasses }).notNull(),
    rule: text("rule").notNull(),
  },
  (t) => [
    index("tracking_events_send_idx").on(t.sendId, t.kind),
    index("tracking_events_delivery_idx").on(t.deliveryId, t.at),
    index("tracking_events_at_idx").on(t.at),
    index("tracking_events_subscriber_idx").on(t.subscriberId),
    check("tracking_events_kind_check", inList("kind", trackingKinds)),
    check("tracking_events_class_check", inList("class", trackingClasses)),
  ],
);

/**
 * A send's readership figures (the report's JSON), written when its raw events are purged after
 * TRACKING_RETENTION_DAYS: aggregates are kept, the events that made them are not.
 */
export const sendReadership = pgTable("send_readership", {
  sendId: uuid("send_id")
    .primaryKey()
    .references(() => sends.id, { onDelete: "cascade" }),
  report: jsonb("report").notNull(),
  computedAt: timestamp("computed_at", { withTimezone: true }).notNull().defaultNow(),
});
export type ArchiveStory = typeof archiveStories.$inferSelect;
