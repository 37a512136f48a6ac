import { and, asc, count, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { type Subscriber, type SubscriberStatus, subscriberStatuses, subscribers } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { addressKey, normaliseAddress, normaliseName } from "./address.js";
import { type SubscriberDeps, subscribe } from "./lifecycle.js";
import { isSuppressed } from "./suppression.js";

/** What staff do to the list, shared by the admin API and `digest subscribers`. */

export interface ListQuery {
  status?: string;
  /** Part of an address or name. */
  search?: string;
  limit?: number;
  offset?: number;
}

export interface SubscriberPage {
  subscribers: Subscriber[];
  total: number;
  nextOffset?: number;
}

export async function listSubscribers(db: Db, query: ListQuery = {}): Promise<SubscriberPage> {
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 50), 1), 500);
  const offset = Math.max(Math.trunc(query.offset ?? 0), 0);
  if (!Number.isFinite(limit) || !Number.isFinite(offset)) throw new DigestError("invalid", "bad paging");
  const filters: SQL[] = [];
  if (query.status !== undefined) {
    if (!subscriberStatuses.includes(query.status as SubscriberStatus)) {
      throw new DigestError("invalid", `status must be one of ${subscriberStatuses.join(", ")}`);
    }
    filters.push(eq(subscribers.status, query.status as SubscriberStatus));
  }
  if (query.search) {
    const pattern = `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const match = or(ilike(subscribers.email, pattern), ilike(subscribers.name, pattern));
    if (match) filters.push(match);
  }
  const where = filters.length > 0 ? and(...filters) : undefined;
  const rows = await db
    .select()
    .from(subscribers)
    .where(where)
    .orderBy(asc(subscribers.createdAt), asc(subscribers.id))
    .limit(limit)
    .offset(offset);
  const [total] = await db.select({ n: count() }).from(subscribers).where(where);
  const n = Number(total?.n ?? 0);
  return {
    subscribers: rows,
    total: n,
    nextOffset: offset + rows.length < n ? offset + rows.length : undefined,
  };
}

export async function findSubscriber(db: Db, address: string): Promise<Subscriber | undefined> {
  const [row] = await db
    .select()
    .from(subscribers)
    .where(sql`lower(${subscribers.email}) = ${addressKey(address)}`);
  return row;
}

export interface AddInput {
  email: unknown;
  name?: unknown;
  /** Staff vouch for the address: active at once, no confirmation mail. */
  confirmed?: boolean;
}

/**
 * Adds one reader by hand. Without `confirmed` it is the web's double opt-in with consent source
 * `admin`. Never touches an address that is suppressed, unsubscribed, bounced or complained.
 */
export async function addSubscriber(
  deps: Pick<SubscriberDeps, "db" | "notify">,
  input: AddInput,
  now = new Date(),
): Promise<Subscriber> {
  const email = normaliseAddress(input.email);
  const name = normaliseName(input.name) ?? null;
  if (await isSuppressed(deps.db, email)) {
    throw new DigestError("conflict", `${email} is on the suppression list (digest subscribers unsuppress)`);
  }
  const existing = await findSubscriber(deps.db, email);
  if (existing && existing.status !== "pending") {
    throw new DigestError("conflict", `${email} is already a subscriber (${existing.status})`);
  }
  if (!input.confirmed) {
    await subscribe(deps, { email, name, source: "admin" }, now);
  } else if (existing) {
    await deps.db
      .update(subscribers)
      .set({ status: "active", confirmedAt: now, name: name ?? existing.name, updatedAt: now })
      .where(and(eq(subscribers.id, existing.id), eq(subscribers.status, "pending")));
  } else {
    await deps.db
      .insert(subscribers)
      .values({ email, name, status: "active", consentSource: "admin", consentAt: now, confirmedAt: now })
      .onConflictDoNothing();
  }
  const row = await findSubscriber(deps.db, email);
  if (!row) throw new DigestError("conflict", `${email} changed while it was being added; try again`);
  return row;
}
