import { createHash } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { type SuppressionReason, subscribers, suppressions } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { addressKey } from "./address.js";

/**
 * The suppression list: addresses never to mail again, kept only as a hash so that an erased person
 * leaves no address behind. Every check fails closed: a database error propagates, it never reads
 * as "not suppressed".
 */

/** sha256 hex of the normalised, lower-cased address. */
export function addressHash(address: string): string {
  return createHash("sha256").update(addressKey(address)).digest("hex");
}

export async function isSuppressed(db: Db, address: string): Promise<boolean> {
  const rows = await db
    .select({ reason: suppressions.reason })
    .from(suppressions)
    .where(eq(suppressions.addressHash, addressHash(address)));
  return rows.length > 0;
}

/**
 * Adds an address to the list. The first reason stays (a bounce after an erasure must not turn the
 * entry back into something staff could mistake for a live reader), except that an erasure always
 * wins, because it also drops the detail text that might name the person.
 */
export async function suppress(
  db: Db,
  address: string,
  reason: SuppressionReason,
  detail?: string,
): Promise<void> {
  const insert = db.insert(suppressions).values({
    addressHash: addressHash(address),
    reason,
    detail: reason === "erased" ? null : (detail ?? null),
  });
  if (reason === "erased") {
    await insert.onConflictDoUpdate({ target: suppressions.addressHash, set: { reason, detail: null } });
  } else {
    await insert.onConflictDoNothing();
  }
}

/**
 * Lifts a suppression (staff only: `digest subscribers unsuppress`). A reader who was stopped by a
 * bounce or complaint becomes active again; an unsubscribed reader stays unsubscribed, because
 * their own choice is not a suppression staff may overrule, and neither is an erasure: the person
 * asked to be forgotten, and the hash is all that keeps them from being mailed again. Returns the
 * lifted reason, if any.
 */
export async function unsuppress(db: Db, address: string): Promise<SuppressionReason | undefined> {
  return db.transaction(async (tx) => {
    const [entry] = await tx
      .select({ reason: suppressions.reason })
      .from(suppressions)
      .where(eq(suppressions.addressHash, addressHash(address)))
      .for("update");
    if (entry?.reason === "erased") {
      throw new DigestError(
        "conflict",
        "this address was erased at the person's request; an erasure cannot be lifted",
      );
    }
    const [lifted] = await tx
      .delete(suppressions)
      .where(eq(suppressions.addressHash, addressHash(address)))
      .returning({ reason: suppressions.reason });
    await tx
      .update(subscribers)
      .set({ status: "active", reactivatedAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          sql`lower(${subscribers.email}) = ${addressKey(address)}`,
          inArray(subscribers.status, ["bounced", "complained"]),
        ),
      );
    return lifted?.reason;
  });
}
