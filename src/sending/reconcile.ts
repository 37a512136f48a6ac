import { sql } from "drizzle-orm";
import { query } from "../db/database.js";
import { skipCancelledRows } from "./cancelled.js";
import { finishIfDone } from "./finish.js";
import { enqueueBatches, type PlanDeps, startDueSends } from "./plan.js";

/**
 * Redis only dispatches, so whatever it loses is rebuilt from rows, on worker start and every
 * RECONCILE_SECONDS:
 * - rows left `sending` by a worker that died (lease expired) go back to `queued`, counted as
 *   ambiguous: that worker may have had the server's 250 and not committed it;
 * - every batch of a running send with due rows gets its job again (same id, so a job still in
 *   Redis is left alone, and a lost one is re-created);
 * - scheduled sends that are due start; sends with nothing left become `done`.
 * Every step is idempotent, so several workers reconciling at once do no harm.
 */
export interface ReconcileResult {
  expired: number;
  enqueued: number;
  started: string[];
  finished: number;
}

export async function reconcile(deps: PlanDeps): Promise<ReconcileResult> {
  const { database } = deps;
  const started = await startDueSends(deps);
  const expired = await query(
    database.db,
    sql`
    update deliveries set status = 'queued', ambiguous = ambiguous + 1, lease_owner = null,
      lease_until = null, updated_at = now()
    where status = 'sending' and lease_until < now()
    returning id`,
  );
  // A cancelled send's re-queued rows are not sent again.
  await skipCancelledRows(database.db, "all cancelled");
  const running = await query<{ id: string }>(
    database.db,
    sql`select id from sends where status = 'running'`,
  );
  let enqueued = 0;
  let finished = 0;
  for (const send of running) {
    if (await finishIfDone(database.db, send.id)) finished++;
    else enqueued += await enqueueBatches(deps, send.id);
  }
  return { expired: expired.length, enqueued, started, finished };
}
