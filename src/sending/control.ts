import { sql } from "drizzle-orm";
import { query } from "../db/database.js";
import type { SendStatus } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { isUuid } from "../ids.js";
import { skipCancelledRows } from "./cancelled.js";
import { enqueueBatches, type PlanDeps } from "./plan.js";

/**
 * Pause, resume, cancel and retry. Each is one conditional UPDATE of the send row (status only
 * moves where the table below allows), so the next claim of any worker sees it: rows not yet
 * claimed stop within one claim round. Rows already handed to SMTP finish normally.
 */
export type ControlAction = "pause" | "resume" | "cancel" | "retry";

const allowedFrom: Record<ControlAction, SendStatus[]> = {
  pause: ["running"],
  resume: ["paused"],
  cancel: ["scheduled", "running", "paused"],
  retry: ["running", "paused", "done"],
};

export interface ControlResult {
  sendId: string;
  status: SendStatus;
  /** Rows put back in the queue (retry) or skipped (cancel). */
  rows: number;
}

export async function controlSend(
  deps: PlanDeps,
  sendId: string,
  act: ControlAction,
): Promise<ControlResult> {
  if (!isUuid(sendId)) throw new DigestError("invalid", `"${sendId}" is not a send id`);
  const outcome = await deps.database.db.transaction(async (tx) => {
    const [send] = await query<{ status: SendStatus }>(
      tx,
      sql`select status from sends where id = ${sendId} for update`,
    );
    if (!send) throw new DigestError("not_found", `no send ${sendId}`);
    if (!allowedFrom[act].includes(send.status))
      throw new DigestError("conflict", `cannot ${act} a send that is ${send.status}`);
    let rows = 0;
    let status: SendStatus = send.status;
    if (act === "pause") status = "paused";
    if (act === "resume") status = "running";
    if (act === "cancel") {
      status = "cancelled";
      rows = await skipCancelledRows(tx, { sendId });
    }
    if (act === "retry") {
      status = "running";
      rows = (
        await query(
          tx,
          sql`update deliveries set status = 'queued', next_attempt_at = null, updated_at = now()
          where send_id = ${sendId} and status in ('failed', 'deferred') returning id`,
        )
      ).length;
    }
    // A new generation gives re-enqueued jobs new ids, distinct from any stale ones still in Redis.
    await query(
      tx,
      sql`update sends set status = ${status}, updated_at = now(),
        paused_reason = ${act === "pause" ? "paused by staff" : null},
        finished_at = ${status === "cancelled" ? sql`now()` : null},
        generation = generation + ${act === "resume" || act === "retry" ? 1 : 0}
      where id = ${sendId}`,
    );
    return { status, rows };
  });
  if (outcome.status === "running") await enqueueBatches(deps, sendId);
  return { sendId, ...outcome };
}
