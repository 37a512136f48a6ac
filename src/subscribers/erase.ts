import { eq, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { staff, subscribers } from "../db/schema.js";
import { type Actor, recordAudit } from "../staff/audit.js";
import { addressKey, normaliseAddress } from "./address.js";
import { addressHash, suppress } from "./suppression.js";

/**
 * GDPR erasure, whole, in one transaction, so no caller (the CLI, the admin API, the console) can
 * forget a table. The subscriber row goes, and with it every other place that holds the address:
 * bounce records of that reader or naming it, their tracking events (clicks and opens), the
 * servers' answers kept on deliveries, test-send
 * deliveries addressed to it (deliveries keep their counts with the reader's id set to null),
 * staff's remembered test addresses, and login attempts typed with it. The audit log keeps its
 * entries, and a send its pause reason (a relay's answer can quote an address), each mention of the
 * address replaced by `erased:<hash prefix>`. Only the address hash
 * stays whole, on the suppression list, so the address is never mailed again. Works for an address
 * we never had too.
 */

/** What stands in for an erased address in the audit log: enough to tie its entries together. */
export const erasedMarker = (address: string) => `erased:${addressHash(address).slice(0, 16)}`;

/** The erasure; returns the erased row's id (for removing its queued jobs), if there was one. */
export async function eraseReader(db: Db, address: string, actor: Actor): Promise<string | undefined> {
  const email = normaliseAddress(address);
  const key = addressKey(email);
  const marker = erasedMarker(email);
  const pattern = addressPattern(key);
  return db.transaction(async (t) => {
    const tx = t as unknown as Db;
    await suppress(tx, email, "erased");
    const [row] = await tx
      .select({ id: subscribers.id })
      .from(subscribers)
      .where(sql`lower(${subscribers.email}) = ${key}`);
    const id = row?.id ?? null;
    // Text a remote server wrote can quote the address anywhere (a diagnostic, a 250 answer).
    const mentions = (column: SQL) => sql`coalesce(${column}, '') ~* ${pattern.source}`;
    const theirs = sql`(subscriber_id = ${id} or lower(address) = ${key})`;
    await tx.execute(sql`delete from bounces where subscriber_id = ${id}
      or delivery_id in (select id from deliveries where ${theirs})
      or ${mentions(sql`diagnostic`)} or ${mentions(sql`reason`)} or ${mentions(sql`status`)}
      or ${mentions(sql`details::text`)}`);
    // Their clicks and opens (time, address, browser): the subscriber's go with the row below
    // (cascade); a test send to the address has no subscriber, so its events go by delivery.
    await tx.execute(sql`delete from tracking_events where subscriber_id = ${id}
      or delivery_id in (select id from deliveries where ${theirs})`);
    await tx.execute(sql`update deliveries set last_response = null, address = null, updated_at = now()
      where ${theirs} or ${mentions(sql`last_response`)}`);
    // Staff's own records keep their meaning with the address replaced: who erased, added or
    // test-sent what, and when, stays answerable.
    const replaced = (column: SQL) => sql`regexp_replace(${column}, ${pattern.source}, ${marker}, 'gi')`;
    await tx.execute(sql`update audit_log set
      target = ${replaced(sql`target`)},
      detail = ${replaced(sql`detail::text`)}::jsonb
      where ${mentions(sql`target`)} or ${mentions(sql`detail::text`)}`);
    await tx.execute(
      sql`update suppressions set detail = ${replaced(sql`detail`)} where ${mentions(sql`detail`)}`,
    );
    // A send paused by the relay keeps the relay's words as its reason, and those can quote a reader.
    await tx.execute(sql`update sends set paused_reason = ${replaced(sql`paused_reason`)},
      unapproved_reason = ${replaced(sql`unapproved_reason`)}
      where ${mentions(sql`paused_reason`)} or ${mentions(sql`unapproved_reason`)}`);
    await tx.execute(sql`delete from staff_login_failures where ${mentions(sql`key`)}`);
    await forgetTestAddress(tx, key, pattern);
    if (row) await tx.delete(subscribers).where(eq(subscribers.id, row.id));
    await recordAudit(tx, actor, "subscriber.erase", marker);
    return row?.id;
  });
}

/**
 * The address as a whole word in any case: `me@x.org` must not match inside `some@x.org` or
 * `me@x.org.uk`, whose owners asked for nothing. Only the usual local-part characters count as
 * "inside": quoting styles such as `'me@x.org'` or `rcpt=me@x.org` must still be found. Every
 * non-alphanumeric character is escaped, which JavaScript and Postgres both read as the literal.
 */
function addressPattern(key: string): RegExp {
  const literal = key.replace(/[^A-Za-z0-9]/g, (c) => `\\${c}`);
  return new RegExp(`(?<![A-Za-z0-9._%+-])${literal}(?![A-Za-z0-9-]|\\.[A-Za-z0-9])`, "i");
}

/** Takes the address out of every staff member's remembered test addresses. */
async function forgetTestAddress(tx: Db, key: string, pattern: RegExp): Promise<void> {
  const holders = await tx
    .select({ id: staff.id, testAddresses: staff.testAddresses })
    .from(staff)
    .where(sql`strpos(lower(coalesce(${staff.testAddresses}, '')), ${key}) > 0`);
  for (const holder of holders) {
    const kept = (holder.testAddresses ?? "").split(/[\s,;]+/).filter((a) => a !== "" && !pattern.test(a));
    await tx
      .update(staff)
      .set({ testAddresses: kept.length > 0 ? kept.join(", ") : null })
      .where(eq(staff.id, holder.id));
  }
}
