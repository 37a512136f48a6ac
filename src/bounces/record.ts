import { type SQL, sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { addressHash } from "../subscribers/suppression.js";
import type { Bounce } from "./bounce.js";

/**
 * The whole bounce policy, in one transaction (listmonk's `record-bounce`): a hard bounce or an
 * abuse/fraud/opt-out complaint stops mail to the reader at once (status + suppression row); soft
 * bounces do so after `softBounceLimit` in a row; an auth-failure report (RFC 6591) is recorded and
 * changes no reader. Statuses only move forward, so a late report never revives anyone.
 */
export interface RecordBounceDeps {
  db: Db;
  softBounceLimit: number;
}

/** Where a report came from: the SMTP answer while sending, inbound mail (DSN/ARF), a saved file, a relay's webhook, the bounce mailbox. */
export type BounceSource = "smtp" | "dsn" | "arf" | "cli" | "webhook" | "mailbox";

export interface RecordBounceInput {
  bounce: Bounce;
  /**
   * The delivery the report is about, already proven (see apply.ts): the policy never picks a
   * reader by the address a report names.
   */
  deliveryId: number;
  source: BounceSource;
  /**
   * The report's own identity (the bounce message's Message-ID, a provider's event id): recording
   * the same report for the same delivery twice changes nothing, so a mailbox reader restarted
   * between applying and moving a message, or a webhook retried by its provider, counts once.
   */
  reportId?: string;
  /** The relay that reported it (ses, postmark, mailgun, sendgrid), shown to staff. */
  provider?: string;
}

export interface RecordedBounce {
  /** The reader the report was matched to, if any. */
  subscriberId?: string;
  /** The reader's status after the report. */
  subscriberStatus?: string;
  /** True when this report put the address on the suppression list. */
  suppressed: boolean;
  /** True when the same report was already recorded for this delivery: nothing changed. */
  duplicate?: boolean;
}

const stoppingComplaints = new Set(["abuse", "fraud", "opt-out"]);

export async function recordBounce(
  deps: RecordBounceDeps,
  input: RecordBounceInput,
): Promise<RecordedBounce> {
  const { bounce } = input;
  if (bounce.type === "none") return { suppressed: false };
  const first = bounce.recipients[0];
  return deps.db.transaction(async (tx) => {
    const run = <T>(statement: SQL) => query<T>(tx, statement);
    const [delivery] = await run<{ id: string | null; email: string | null; address: string | null }>(sql`
      select s.id, s.email, d.address from deliveries d left join subscribers s on s.id = d.subscriber_id
      where d.id = ${input.deliveryId} for update of d`);
    // A delivery that is gone, or whose reader was erased (no reader, no test address), keeps
    // nothing of a report: storing it would bring the erased address back in its diagnostic.
    if (!delivery || (!delivery.id && !delivery.address)) return { suppressed: false };
    const match = delivery.id && delivery.email ? { id: delivery.id, email: delivery.email } : undefined;
    if (match) await run(sql`select 1 from subscribers where id = ${match.id} for update`);
    // The lock above serialises reports about one delivery, so two copies of a report cannot both
    // pass this check.
    if (input.reportId) {
      const [seen] = await run(sql`select 1 from bounces where delivery_id = ${input.deliveryId}
        and details->>'reportId' = ${input.reportId} limit 1`);
      if (seen) return { ...(match ? { subscriberId: match.id } : {}), suppressed: false, duplicate: true };
    }

    const complaintStops =
      bounce.type === "complaint" && stoppingComplaints.has(bounce.feedbackType ?? "abuse");
    let suppressed = false;
    let status: string | undefined;
    if (match) {
      if (bounce.type === "hard" || complaintStops) {
        const next = bounce.type === "hard" ? "bounced" : "complained";
        const from =
          bounce.type === "hard"
            ? sql`('pending', 'active')`
            : sql`('pending', 'active', 'unsubscribed', 'bounced')`;
        await run(sql`update subscribers set status = ${next}, updated_at = now()
          where id = ${match.id} and status in ${from}`);
        suppressed = await suppress(run, match.email, next);
      } else if (bounce.type === "soft") {
        const [row] = await run<{ soft_bounces: number }>(sql`
          update subscribers set soft_bounces = soft_bounces + 1, updated_at = now()
          where id = ${match.id} returning soft_bounces::int`);
        if (row && row.soft_bounces >= deps.softBounceLimit) {
          await run(sql`update subscribers set status = 'bounced', updated_at = now()
            where id = ${match.id} and status in ('pending', 'active')`);
          suppressed = await suppress(run, match.email, "bounced");
        }
      }
      const [after] = await run<{ status: string }>(
        sql`select status from subscribers where id = ${match.id}`,
      );
      status = after?.status;
    }
    // A delivery still `sending` is in a worker's hands: its status is decided once, by that
    // worker's outcome write (an SMTP refusal arrives here already decided as `bounced`).
    if (bounce.type === "hard" || bounce.type === "soft") {
      await run(sql`update deliveries set status = 'bounced', last_response = coalesce(${first?.diagnostic ?? null}, last_response), updated_at = now()
        where id = ${input.deliveryId} and status in ('queued', 'sent', 'deferred', 'failed')`);
    }
    await run(sql`insert into bounces (delivery_id, subscriber_id, type, feedback_type, reason, status, diagnostic, source, details)
      values (${input.deliveryId}, ${match?.id ?? null}, ${bounce.type}, ${bounce.feedbackType ?? null},
        ${first?.reason ?? null}, ${first?.status ?? null}, ${first?.diagnostic ?? null}, ${input.source},
        ${JSON.stringify({ recipients: bounce.recipients, originalMessageId: bounce.originalMessageId, reportId: input.reportId, provider: input.provider })}::jsonb)`);
    return { ...(match ? { subscriberId: match.id, subscriberStatus: status } : {}), suppressed };
  });
}

async function suppress(
  run: <T>(statement: SQL) => Promise<T[]>,
  email: string,
  reason: "bounced" | "complained",
): Promise<boolean> {
  const rows =
    await run(sql`insert into suppressions (address_hash, reason) values (${addressHash(email)}, ${reason})
    on conflict (address_hash) do nothing returning address_hash`);
  return rows.length > 0;
}
