import { and, eq, inArray, sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { type ConsentSource, type Subscriber, subscribers } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { addressKey, normaliseAddress, normaliseName } from "./address.js";
import { mailRequest, type Notify } from "./notify.js";
import { isSuppressed } from "./suppression.js";
import { type SubscriberPurpose, verifySubscriberToken } from "./tokens.js";

/**
 * A reader's way through the statuses: pending → active on confirmation; unsubscribed from any
 * status; back to pending (with a new confirmation) after unsubscribing, but only by the reader's
 * own manage link: a stranger who types their address into the form changes nothing. Every move is
 * a conditional UPDATE, so a late or replayed request cannot undo a later state.
 */
export interface SubscriberDeps {
  db: Db;
  notify: Notify;
  secret: string;
}

export interface SubscribeInput {
  email: unknown;
  name?: unknown;
  source: ConsentSource;
  ip?: string;
  /** The reader's language (one of LANGUAGES, chosen by the caller); unset: the install's default. */
  language?: string;
}

/** At most one confirmation mail per address in this window. */
export const confirmationInterval = "24 hours";
export const pendingLifetimeDays = 30;

/**
 * Double opt-in. Resolves the same way whether the address is new, pending, active, unsubscribed,
 * bounced, complained or erased, so its caller cannot reveal which; only bad input and a queue it
 * cannot reach are errors.
 */
export async function subscribe(
  deps: Pick<SubscriberDeps, "db" | "notify">,
  input: SubscribeInput,
  now = new Date(),
  /**
   * The request came with the reader's manage link, so it is the address's owner: only they may
   * turn an unsubscribed row back into a pending one. The 24 h limit on confirmations holds for
   * them too (a leaked manage link must not become a mail cannon).
   */
  ownerVerified = false,
): Promise<void> {
  const email = normaliseAddress(input.email);
  const name = normaliseName(input.name) ?? null;
  if (await isSuppressed(deps.db, email)) return;
  const at = now.toISOString();
  // A pending row keeps the consent record of the request that created it (name, time, address):
  // a later request for the same address, by the reader or by anyone else, only earns another
  // confirmation mail within the limit; the confirming request is recorded when it comes. An
  // unsubscribed row starts over as pending, with a new consent record, only for its owner: a
  // stranger's form post would otherwise undo the reader's choice, and the purge of stale pending
  // rows would then delete the evidence of it. Active, bounced and complained rows are left as they are.
  const restart = ownerVerified
    ? sql`do update set
      status = 'pending', name = excluded.name, consent_source = excluded.consent_source,
      consent_at = excluded.consent_at, consent_ip = excluded.consent_ip, confirmed_at = null,
      confirmed_ip = null, updated_at = now()
    where subscribers.status = 'unsubscribed'`
    : sql`do nothing`;
  await query(
    deps.db,
    sql`
    insert into subscribers (email, name, status, consent_source, consent_at, consent_ip, language)
    values (${email}, ${name}, 'pending', ${input.source}, ${at}::timestamptz, ${input.ip ?? null}, ${input.language ?? null})
    on conflict (lower(email)) ${restart}`,
  );
  await sendConfirmation(deps, addressKey(email), now);
}

/**
 * Claims the right to send a confirmation (once per 24 h per address) and queues it. If the queue
 * cannot take it, the claim is released so the reader can simply try again.
 */
async function sendConfirmation(deps: Pick<SubscriberDeps, "db" | "notify">, key: string, now: Date) {
  const at = now.toISOString();
  const claimed = await query<{ id: string }>(
    deps.db,
    sql`
      update subscribers set last_confirmation_at = ${at}::timestamptz, updated_at = now()
      where lower(email) = ${key} and status = 'pending'
        and (last_confirmation_at is null
             or last_confirmation_at <= ${at}::timestamptz - ${confirmationInterval}::interval)
      returning id`,
  );
  const [row] = claimed;
  if (!row) return;
  try {
    await deps.notify([mailRequest("confirm", row.id, now)]);
  } catch (error) {
    await query(
      deps.db,
      sql`
      update subscribers set last_confirmation_at = null
      where id = ${row.id} and last_confirmation_at = ${at}::timestamptz`,
    );
    throw new DigestError("unavailable", "cannot queue the confirmation mail; please try again", {
      cause: error,
    });
  }
}

/** The subscriber a link's token names; a tampered, expired or foreign token is refused. */
export async function subscriberForToken(
  deps: Pick<SubscriberDeps, "db" | "secret">,
  purpose: SubscriberPurpose,
  token: string,
  now = new Date(),
): Promise<Subscriber> {
  const id = verifySubscriberToken(deps.secret, purpose, token, now.getTime());
  if (!id) throw new DigestError("invalid", "this link is not valid (or it has expired)");
  const [row] = await deps.db.select().from(subscribers).where(eq(subscribers.id, id));
  if (!row) throw new DigestError("not_found", "this subscription no longer exists");
  return row;
}

export type ConfirmResult = { confirmed: boolean; subscriber: Subscriber };

/**
 * pending → active, then the welcome mail; the confirming request's time and client address
 * complete the consent record. Clicking the link again changes nothing.
 */
export async function confirm(
  deps: SubscriberDeps,
  token: string,
  ip?: string,
  now = new Date(),
): Promise<ConfirmResult> {
  const current = await subscriberForToken(deps, "confirm", token, now);
  if (current.status !== "pending" || (await isSuppressed(deps.db, current.email))) {
    return { confirmed: false, subscriber: current };
  }
  const [row] = await deps.db
    .update(subscribers)
    .set({ status: "active", confirmedAt: now, confirmedIp: ip ?? null, updatedAt: now })
    .where(and(eq(subscribers.id, current.id), eq(subscribers.status, "pending")))
    .returning();
  if (!row) return { confirmed: false, subscriber: current };
  try {
    await deps.notify([mailRequest("welcome", row.id, now)]);
  } catch (error) {
    // Undo, so the reader's retry confirms again and gets the welcome mail with its unsubscribe link.
    await deps.db
      .update(subscribers)
      .set({ status: "pending", confirmedAt: null, confirmedIp: null })
      .where(
        and(eq(subscribers.id, row.id), eq(subscribers.status, "active"), eq(subscribers.confirmedAt, now)),
      );
    throw new DigestError("unavailable", "cannot confirm right now; please try the link again", {
      cause: error,
    });
  }
  return { confirmed: true, subscriber: row };
}

export interface UnsubscribeResult {
  changed: boolean;
  subscriber: Subscriber;
  /** Set when the goodbye mail could not be queued; the unsubscribe itself stands regardless. */
  goodbyeError?: unknown;
}

/** Any status → unsubscribed; only a reader who was active gets the goodbye mail. Harmless to repeat. */
export async function unsubscribe(
  deps: SubscriberDeps,
  subscriberId: string,
  now = new Date(),
): Promise<UnsubscribeResult> {
  const set = { status: "unsubscribed" as const, unsubscribedAt: now, updatedAt: now };
  const [wasActive] = await deps.db
    .update(subscribers)
    .set(set)
    .where(and(eq(subscribers.id, subscriberId), eq(subscribers.status, "active")))
    .returning();
  if (wasActive) {
    try {
      await deps.notify([mailRequest("goodbye", subscriberId, now)]);
      return { changed: true, subscriber: wasActive };
    } catch (error) {
      return { changed: true, subscriber: wasActive, goodbyeError: error };
    }
  }
  const [other] = await deps.db
    .update(subscribers)
    .set(set)
    .where(
      and(
        eq(subscribers.id, subscriberId),
        inArray(subscribers.status, ["pending", "bounced", "complained"]),
      ),
    )
    .returning();
  if (other) return { changed: true, subscriber: other };
  const [row] = await deps.db.select().from(subscribers).where(eq(subscribers.id, subscriberId));
  if (!row) throw new DigestError("not_found", "this subscription no longer exists");
  return { changed: false, subscriber: row };
}

/**
 * From the manage page: an unsubscribed reader starts over with a new confirmation mail, under the
 * same once-a-day limit as every confirmation.
 */
export async function resubscribe(
  deps: SubscriberDeps,
  subscriber: Subscriber,
  ip?: string,
  now = new Date(),
) {
  if (subscriber.status !== "unsubscribed" && subscriber.status !== "pending") return;
  await subscribe(deps, { email: subscriber.email, name: subscriber.name, source: "web", ip }, now, true);
}

/** The manage page's language choice; the caller has checked it is one of LANGUAGES. */
export async function setLanguage(db: Db, subscriberId: string, language: string): Promise<void> {
  await db
    .update(subscribers)
    .set({ language, updatedAt: sql`now()` })
    .where(eq(subscribers.id, subscriberId));
}

export async function rename(db: Db, subscriberId: string, name: unknown): Promise<void> {
  await db
    .update(subscribers)
    .set({ name: normaliseName(name) ?? null, updatedAt: sql`now()` })
    .where(eq(subscribers.id, subscriberId));
}

/**
 * Deletes pending rows nobody confirmed within 30 days of the last confirmation mail (the consent
 * time stays the first request's, so it alone would cut short a link mailed since); returns how
 * many. A row that was
 * unsubscribed before (its owner asked to come back and never confirmed) is not deleted but goes
 * back to unsubscribed: that row is the evidence of the reader's choice, which a later import or
 * form post must keep honouring.
 */
export async function purgePending(db: Db, now = new Date()): Promise<number> {
  const stale = sql`status = 'pending'
    and coalesce(last_confirmation_at, consent_at, created_at) < ${now.toISOString()}::timestamptz - make_interval(days => ${pendingLifetimeDays})`;
  await query(
    db,
    sql`update subscribers set status = 'unsubscribed', updated_at = now()
    where ${stale} and unsubscribed_at is not null`,
  );
  const rows = await query<{ id: string }>(
    db,
    sql`delete from subscribers where ${stale} and unsubscribed_at is null returning id`,
  );
  return rows.length;
}
