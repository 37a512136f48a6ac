import { eq } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { subscribers } from "../db/schema.js";

/**
 * A reader turns tracking off (or on again) for themselves on the manage page. Their next mail is
 * built from the untracked message (plain links, no pixel), and requests from mail they already
 * have are answered but no longer recorded.
 */
export async function setReaderTracking(db: Db, subscriberId: string, on: boolean): Promise<void> {
  await db
    .update(subscribers)
    .set({ tracking: on, updatedAt: new Date() })
    .where(eq(subscribers.id, subscriberId));
}
