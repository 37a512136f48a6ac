import { sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { sendLinks } from "../db/schema.js";
import type { SendLink } from "./links.js";

/**
 * Stores a send's numbered links. Every worker that builds the send's message numbers its links the
 * same way (the numbering is a pure function of the send's own copy of the issue and PUBLIC_URL), so
 * the first to get here writes them and the others find them already there. A worker that numbered
 * them differently (another PUBLIC_URL, say) must not mail links that lead elsewhere: it refuses.
 */
export async function saveSendLinks(db: Db, sendId: string, links: SendLink[]): Promise<void> {
  if (links.length === 0) return;
  await db
    .insert(sendLinks)
    .values(links.map((l) => ({ sendId, ...l })))
    .onConflictDoNothing();
  const stored = await db
    .select({ linkNo: sendLinks.linkNo, url: sendLinks.url })
    .from(sendLinks)
    .where(sql`${sendLinks.sendId} = ${sendId}`);
  const urlOf = new Map(stored.map((l) => [l.linkNo, l.url]));
  const differs = links.find((l) => urlOf.get(l.linkNo) !== l.url);
  if (differs || stored.length !== links.length)
    throw new Error(
      `send ${sendId}: its links were numbered differently before (link ${differs?.linkNo ?? "count"}); is PUBLIC_URL the same for every worker?`,
    );
}

/** A send's links by number, for the redirect. */
export async function loadSendLinks(db: Db, sendId: string): Promise<Map<number, string>> {
  const rows = await db
    .select({ linkNo: sendLinks.linkNo, url: sendLinks.url })
    .from(sendLinks)
    .where(sql`${sendLinks.sendId} = ${sendId}`);
  return new Map(rows.map((r) => [r.linkNo, r.url]));
}
