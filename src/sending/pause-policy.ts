import { sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";

/**
 * 5.7.x refusals are about us (DKIM, SPF, reputation), not the reader: when `pauseAfter` of them
 * land within five minutes the send pauses, so the rest of the list is not burnt on a broken setup.
 */
export async function pauseOnPolicyFailures(db: Db, sendId: string, pauseAfter: number): Promise<void> {
  await query(
    db,
    sql`
    update sends set status = 'paused', paused_reason = 'policy or authentication refusals (5.7.x) keep coming: fix DKIM/SPF/reputation, then digest retry and resume',
      updated_at = now()
    where id = ${sendId} and status = 'running'
      and (select count(*) from deliveries where send_id = ${sendId} and status = 'failed'
           and updated_at > now() - interval '5 minutes' and last_response ~ '5\\.7\\.[0-9]')
          >= ${pauseAfter}`,
  );
}

/**
 * The relay cannot be used (TLS or our login, see outcome.ts's relayFault): one such failure
 * pauses the send with the reason, as every other message would fail the same way.
 */
export async function pauseForRelayFault(db: Db, sendId: string, reason: string): Promise<void> {
  await pauseWithReason(db, sendId, reason);
}

/** A running send pauses, saying why; a send in any other state stays as it is. */
export async function pauseWithReason(db: Db, sendId: string, reason: string): Promise<void> {
  await query(
    db,
    sql`update sends set status = 'paused', paused_reason = ${reason}, updated_at = now()
    where id = ${sendId} and status = 'running'`,
  );
}
