import { sql } from "drizzle-orm";
import { query } from "../db/database.js";
import type { BreakerKind, SendStatus } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { isUuid } from "../ids.js";
import { breakerCounts } from "./breaker-trip.js";
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

/**
 * A send a circuit breaker paused goes on only when staff say so on purpose (`--force`, the
 * console's typed confirmation, `"force": true`): a plain resume, or a retry (which resumes too),
 * is refused with this. It carries the figure the console asks to be typed back.
 */
export class BreakerPausedError extends DigestError {
  override readonly name = "BreakerPausedError";
  constructor(
    readonly sendId: string,
    readonly breaker: BreakerKind,
    /** Complaints or hard bounces (whichever breaker tripped) counted on the send now. */
    readonly count: number,
    readonly reason: string,
  ) {
    super("conflict", `send ${sendId} was paused by its ${breaker} breaker: ${reason}`);
  }
}

export interface ControlOptions {
  /** Resume (or retry) a send a circuit breaker paused; what was accepted is recorded on the send. */
  force?: boolean;
}

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
  options: ControlOptions = {},
): Promise<ControlResult> {
  if (!isUuid(sendId)) throw new DigestError("invalid", `"${sendId}" is not a send id`);
  const outcome = await deps.database.db.transaction(async (tx) => {
    const [send] = await query<{
      status: SendStatus;
      breaker: BreakerKind | null;
      paused_reason: string | null;
    }>(tx, sql`select status, breaker, paused_reason from sends where id = ${sendId} for update`);
    if (!send) throw new DigestError("not_found", `no send ${sendId}`);
    if (!allowedFrom[act].includes(send.status))
      throw new DigestError("conflict", `cannot ${act} a send that is ${send.status}`);
    const goesOn = act === "resume" || act === "retry";
    const breaker = send.status === "paused" && goesOn ? send.breaker : null;
    // Counted under the send's lock, so what is recorded as accepted is what the person was shown
    // (or less: a report arriving meanwhile still counts as a rise).
    const accepted = breaker ? await breakerCounts(tx, sendId) : undefined;
    if (breaker && accepted && !options.force)
      throw new BreakerPausedError(
        sendId,
        breaker,
        breaker === "complaints" ? accepted.complaints : accepted.hardBounces,
        send.paused_reason ?? "",
      );
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
        generation = generation + ${goesOn ? 1 : 0},
        breaker = null
      where id = ${sendId}`,
    );
    if (accepted)
      await query(
        tx,
        sql`update sends set forced_sent = ${accepted.sent}, forced_complaints = ${accepted.complaints},
          forced_hard_bounces = ${accepted.hardBounces} where id = ${sendId}`,
      );
    return { status, rows };
  });
  if (outcome.status === "running") await enqueueBatches(deps, sendId);
  return { sendId, ...outcome };
}
