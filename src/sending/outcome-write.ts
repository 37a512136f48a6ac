import { sql } from "drizzle-orm";
import { recordBounce } from "../bounces/record.js";
import { type Db, query } from "../db/database.js";
import type { Claimed } from "./claim.js";
import type { Outcome } from "./outcome.js";

/**
 * Commits one claim's outcomes. The bounce policy runs first (one transaction per refused reader,
 * as for any other bounce source), then every row's status is written in one UPDATE. The rows stay
 * `sending` under our lease until that UPDATE, so no one (finishIfDone, a status reader) ever sees
 * a claim half-committed: a send is not `done` while its last bounces are still being recorded.
 * A crash in between re-sends those rows later as ambiguous, like any claim not yet committed.
 *
 * A 250 resets no soft-bounce count: SMTP_URL is usually a relay, whose 250 only says it queued the
 * message. The count is derived from the rows (bounces/streak.ts), where only a send past
 * DEFER_HORIZON_SECONDS with no bounce proves the reader gets their mail.
 */
export interface OutcomeWriteDeps {
  db: Db;
  owner: string;
  softBounceLimit: number;
  deferHorizonSeconds: number;
}

export async function commitOutcomes(
  deps: OutcomeWriteDeps,
  rows: Claimed[],
  outcomes: Outcome[],
): Promise<void> {
  await recordSmtpBounces(deps, rows, outcomes);
  await writeOutcomes(deps, outcomes);
}

async function writeOutcomes(deps: OutcomeWriteDeps, outcomes: Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const values = outcomes.map(({ id, status, response, delay, ambiguous, relayId }) => ({
    id,
    status,
    response,
    delay,
    ambiguous,
    relay_id: relayId,
  }));
  await query(
    deps.db,
    sql`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify(values)}::jsonb)
        as v(id bigint, status text, response text, delay float8, ambiguous boolean, relay_id text))
    update deliveries d set
        status = v.status,
        last_response = v.response,
        next_attempt_at = case when v.delay is null then null else now() + make_interval(secs => v.delay) end,
        sent_at = case when v.status = 'sent' then now() else d.sent_at end,
        provider_message_id = coalesce(v.relay_id, d.provider_message_id),
        ambiguous = d.ambiguous + case when v.ambiguous then 1 else 0 end,
        lease_owner = null, lease_until = null, updated_at = now()
      from v where d.id = v.id and d.status = 'sending' and d.lease_owner = ${deps.owner}`,
  );
}

/**
 * A `bounced` outcome is a bounce like any other: unknown users are suppressed at once, other
 * permanent refusals count as soft bounces. Test-send rows (no subscriber) have no reader to count.
 */
async function recordSmtpBounces(
  deps: OutcomeWriteDeps,
  rows: Claimed[],
  outcomes: Outcome[],
): Promise<void> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const outcome of outcomes) {
    const row = byId.get(outcome.id);
    const failure = outcome.failure;
    if (outcome.status !== "bounced" || !failure || !row || row.subscriber_id === null) continue;
    await recordBounce(
      { db: deps.db, softBounceLimit: deps.softBounceLimit, deferHorizonSeconds: deps.deferHorizonSeconds },
      {
        bounce: {
          type: failure.type,
          recipients: [
            {
              address: row.email,
              status: "",
              action: "failed",
              diagnostic: outcome.response,
              type: failure.type,
              reason: failure.reason,
            },
          ],
        },
        deliveryId: row.id,
        source: "smtp",
      },
    );
  }
}
