import { type SQL, sql } from "drizzle-orm";

/**
 * A reader's soft bounces "in a row", derived from the rows, never stored: the real sends (not test
 * sends) whose delivery to the reader has a counted soft bounce, between two sends that prove mail
 * reached them, and after staff last lifted their suppression.
 *
 * Proof of delivery is a delivery `sent` at least `horizonSeconds` ago about which no bounce has
 * come. A 250 is never proof by itself: Digest always talks to SMTP_URL, and behind a relay that
 * 250 only says the relay queued the message; the reader's server may refuse it hours later, by
 * DSN or webhook. A report that comes after the horizon still counts: that send stops being proof.
 *
 * Without `around`, the row is the one since the reader's latest proof (what they stand at now).
 * With `around` (a delivery just bounced), it is the row that delivery belongs to: between the
 * last proof before it and the first proof after it. A relay gives up on a full mailbox only after
 * its queue lifetime (Postfix and Sendmail 5 days, Exim 4), so on a daily newsletter the DSN about
 * one send comes when the next few, not yet refused, already look like proof; counting only since
 * the latest proof would leave that bounce out, and the reader would be mailed forever.
 *
 * "Before" and "after" are by delivery id: ids are dense and handed out as each send starts, so
 * they follow the order of the reader's sends whatever order the reports arrive in.
 *
 * Sends are walked through `deliveries_send_subscriber_key` (one lookup per send), so the streak
 * costs the number of sends, not the size of the deliveries table. `subscriberId` must be a value
 * or a column qualified by its table: the expression has its own `deliveries` and `sends` in scope.
 */
export function softBounceStreak(subscriberId: SQL, horizonSeconds: number, around?: SQL): SQL {
  const bounced = (delivery: SQL, which: SQL) =>
    sql`exists (select 1 from bounces fb where fb.delivery_id = ${delivery} and ${which})`;
  const proofs = (
    which: SQL,
    bound: SQL,
  ) => sql`(select ${which} from sends es join deliveries ed on ed.send_id = es.id
        where ed.subscriber_id = ${subscriberId} and not es.is_test and ed.status = 'sent'
          and ed.sent_at <= now() - make_interval(secs => ${horizonSeconds})
          and not ${bounced(sql`ed.id`, sql`fb.type in ('hard', 'soft')`)} and ${bound})`;
  const after = proofs(sql`max(ed.id)`, around ? sql`ed.id < ${around}` : sql`true`);
  const upTo = around
    ? sql`and sd.id < coalesce(${proofs(sql`min(ed.id)`, sql`ed.id > ${around}`)}, 9223372036854775807)`
    : sql``;
  return sql`(select count(*)::int from sends ss join deliveries sd on sd.send_id = ss.id
    where sd.subscriber_id = ${subscriberId} and not ss.is_test and ${bounced(sql`sd.id`, sql`fb.type = 'soft' and fb.counted`)}
      and coalesce(ss.started_at, ss.created_at) > coalesce(
        (select sr.reactivated_at from subscribers sr where sr.id = ${subscriberId}), '-infinity')
      and sd.id > coalesce(${after}, 0)
      ${upTo})`;
}
