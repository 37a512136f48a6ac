import { type SQL, sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { addressHash } from "../subscribers/suppression.js";
import type { Bounce } from "./bounce.js";
import { softBounceStreak } from "./streak.js";

/**
 * The whole bounce policy, in one transaction (listmonk's `record-bounce`): a hard bounce or an
 * abuse/fraud/opt-out complaint stops mail to the reader at once (status + suppression row); soft
 * bounces do so after `softBounceLimit` sends in a row (streak.ts); an auth-failure report
 * (RFC 6591) is recorded and changes no reader. Statuses only move forward, so a late report never
 * revives anyone.
 *
 * One report counts once: per delivery, one failure and one complaint count, whichever channel
 * (SMTP answer, VERP, mailbox, webhook, file) brought them and however often. A later report that
 * is more severe (hard after soft, abuse after auth-failure) still takes effect and takes the count
 * over; anything else about an already counted delivery is a duplicate and changes nothing.
 */
export interface RecordBounceDeps {
  db: Db;
  softBounceLimit: number;
  /** DEFER_HORIZON_SECONDS: a send this old with no bounce proves mail reaches the reader. */
  deferHorizonSeconds: number;
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
  /** The report's own identity (the bounce message's Message-ID, a provider's event id), kept for staff. */
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
  /**
   * True when a report about this delivery already counts (this one again, the same by another
   * channel, or a less severe one): nothing changed.
   */
  duplicate?: boolean;
}

const stoppingComplaints = new Set(["abuse", "fraud", "opt-out"]);

/** A complaint with no Feedback-Type is taken as abuse (what an FBL report without one means). */
function stops(feedbackType: string | null | undefined): boolean {
  return stoppingComplaints.has(feedbackType ?? "abuse");
}

/** Within one kind (failure, complaint): 2 for what stops mail at once, 1 for the rest. */
function severity(type: string, feedbackType: string | null | undefined): number {
  return type === "hard" || (type === "complaint" && stops(feedbackType)) ? 2 : 1;
}

/**
 * The report as Postgres can store it. A report's words come from whoever wrote it (a quoted-
 * printable `=00`, a base64 part, a JSON `\u0000` or lone `\ud800`): text columns refuse NUL and
 * jsonb refuses NUL and lone surrogates, and a report that can never be stored would be answered
 * "try again" for days over SMTP and read again at every pass of the bounce mailbox.
 */
function storable(input: RecordBounceInput): RecordBounceInput {
  return JSON.parse(JSON.stringify(input), (_key, value: unknown) =>
    typeof value === "string" ? value.replace(UNSTORABLE, (c) => (c === "\u0000" ? "" : "\ufffd")) : value,
  ) as RecordBounceInput;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what Postgres refuses
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export async function recordBounce(
  deps: RecordBounceDeps,
  reported: RecordBounceInput,
): Promise<RecordedBounce> {
  const input = storable(reported);
  const { bounce } = input;
  if (bounce.type === "none") return { suppressed: false };
  const first = bounce.recipients[0];
  return deps.db.transaction(async (tx) => {
    const run = <T>(statement: SQL) => query<T>(tx, statement);
    const [delivery] = await run<{
      id: string | null;
      email: string | null;
      address: string | null;
      send_id: string;
    }>(sql`
      select s.id, s.email, d.address, d.send_id from deliveries d left join subscribers s on s.id = d.subscriber_id
      where d.id = ${input.deliveryId} for update of d`);
    // A delivery that is gone, or whose reader was erased (no reader, no test address), keeps
    // nothing of a report: storing it would bring the erased address back in its diagnostic.
    if (!delivery || (!delivery.id && !delivery.address)) return { suppressed: false };
    const match = delivery.id && delivery.email ? { id: delivery.id, email: delivery.email } : undefined;
    if (match) await run(sql`select 1 from subscribers where id = ${match.id} for update`);
    // The delivery's lock serialises reports about it, so two copies of a report cannot both be
    // counted (and the unique index bounces_counted_key refuses it if they ever could).
    const complaint = bounce.type === "complaint";
    const [counted] = await run<{ id: string; type: string; feedback_type: string | null }>(sql`
      select id, type, feedback_type from bounces
      where delivery_id = ${input.deliveryId} and counted and (type = 'complaint') = ${complaint}`);
    if (
      counted &&
      severity(counted.type, counted.feedback_type) >= severity(bounce.type, bounce.feedbackType)
    ) {
      return { ...(match ? { subscriberId: match.id } : {}), suppressed: false, duplicate: true };
    }
    if (counted) await run(sql`update bounces set counted = false where id = ${counted.id}`);
    await run(sql`insert into bounces (delivery_id, send_id, subscriber_id, type, feedback_type, reason, status, diagnostic, source, details)
      values (${input.deliveryId}, ${delivery.send_id}, ${match?.id ?? null}, ${bounce.type}, ${bounce.feedbackType ?? null},
        ${first?.reason ?? null}, ${first?.status ?? null}, ${first?.diagnostic ?? null}, ${input.source},
        ${JSON.stringify({ recipients: bounce.recipients, originalMessageId: bounce.originalMessageId, reportId: input.reportId, provider: input.provider })}::jsonb)`);

    const complaintStops = complaint && stops(bounce.feedbackType);
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
        // Counted after the row above is in: this send is part of the streak.
        const [row] = await run<{ streak: number }>(
          sql`select ${softBounceStreak(sql`${match.id}`, deps.deferHorizonSeconds, sql`${input.deliveryId}::bigint`)} as streak`,
        );
        if (row && row.streak >= deps.softBounceLimit) {
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
