import { sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";

/** A send is done when no row is left to send: derived from rows, never from a counter. */
export async function finishIfDone(db: Db, sendId: string): Promise<boolean> {
  const rows = await query(
    db,
    sql`
    update sends set status = 'done', finished_at = now(), updated_at = now()
    where id = ${sendId} and status = 'running'
      and not exists (select 1 from deliveries where send_id = ${sendId}
                      and status in ('queued', 'sending', 'deferred'))
    returning id`,
  );
  return rows.length > 0;
}
