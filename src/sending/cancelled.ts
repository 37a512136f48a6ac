import { type SQL, sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";

/**
 * The rows of a cancelled send that were still waiting become `skipped`; rows in a worker's hands
 * finish their attempt. `sends` narrows it: one send (cancel) or every cancelled one (reconcile,
 * for rows re-queued after the cancel by an expired lease).
 */
export async function skipCancelledRows(
  db: Db,
  sends: { sendId: string } | "all cancelled",
): Promise<number> {
  const which: SQL =
    sends === "all cancelled"
      ? sql`d.send_id in (select id from sends where status = 'cancelled')`
      : sql`d.send_id = ${sends.sendId}`;
  const rows = await query(
    db,
    sql`update deliveries d set status = 'skipped', last_response = 'send cancelled', updated_at = now()
      where ${which} and d.status in ('queued', 'deferred') returning d.id`,
  );
  return rows.length;
}
