import { type SQL, sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import type { DeliveryBatchJob } from "../queues.js";

/** A row this worker now holds (`sending`, under its lease): who to send to. */
export interface Claimed {
  id: number;
  subscriber_id: string | null;
  email: string;
  attempts: number;
  /** False once the reader turned tracking off (manage page): their mail has plain links, no pixel. */
  tracking: boolean;
}

export interface ClaimSettings {
  /** Who holds a claim: unique per worker process. */
  owner: string;
  leaseSeconds: number;
  /** Rows claimed per round: small enough that pause/cancel bite within about a second. */
  claimSize: number;
}

/**
 * Claims the due rows of one batch in one conditional UPDATE: `queued` rows and `deferred` rows
 * whose time has come, skipping rows another worker holds. A reader who is no longer active (or a
 * test address that is gone) is marked `skipped` in the same statement instead of being sent.
 * The send row is read FOR SHARE so a pause or cancel (an UPDATE of it) waits for a claim in
 * progress, and no claim starts after it commits.
 */
export async function claimDue(db: Db, settings: ClaimSettings, job: DeliveryBatchJob): Promise<Claimed[]> {
  return query<Claimed>(db, claimStatement(settings, job));
}

/** The claim's one statement (exported so a test can ask Postgres how it plans to run it). */
export function claimStatement(settings: ClaimSettings, job: DeliveryBatchJob): SQL {
  return sql`
    with send as (select id from sends where id = ${job.sendId} and status = 'running' for share),
    due as (
      select d.id,
        case when d.subscriber_id is null then d.address is not null else sub.status = 'active' end as live,
        coalesce(d.address, sub.email) as email, coalesce(sub.tracking, true) as tracking
      from deliveries d join send on send.id = d.send_id
      left join subscribers sub on sub.id = d.subscriber_id
      where d.id between ${job.fromId} and ${job.toId}
        and (d.status = 'queued' or (d.status = 'deferred' and d.next_attempt_at <= now()))
      order by d.id limit ${settings.claimSize}
      for update of d skip locked),
    claimed as (
      update deliveries d set
        status = case when due.live then 'sending' else 'skipped' end,
        lease_owner = case when due.live then ${settings.owner} end,
        lease_until = case when due.live then now() + make_interval(secs => ${settings.leaseSeconds}) end,
        attempts = d.attempts + case when due.live then 1 else 0 end,
        last_response = case when due.live then d.last_response else 'reader no longer active' end,
        updated_at = now()
      from due where d.id = due.id
      returning d.id::float8 as id, d.subscriber_id, due.email, due.tracking, due.live,
        d.attempts::int as attempts)
    select id, subscriber_id, email, attempts, tracking from claimed where live order by id`;
}

/**
 * Extends this job's lease on the rows it still holds and answers which of `ids` are no longer its
 * own. A claim that waits long for the send rate would otherwise outlive its lease: the reconciler
 * would hand the rows to another job while this one still sends them. Rows locked right now (their
 * outcomes being written, a report being recorded) are skipped rather than waited for, so renewal
 * never queues behind, or deadlocks with, the write it is keeping the rows for.
 */
export async function renewLease(db: Db, settings: ClaimSettings, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const list = sql.raw(`array[${ids.map((id) => Math.trunc(Number(id))).join(",")}]::bigint[]`);
  await query(
    db,
    sql`with mine as (
        select id from deliveries
        where id = any(${list}) and status = 'sending' and lease_owner = ${settings.owner}
        for update skip locked)
      update deliveries d set lease_until = now() + make_interval(secs => ${settings.leaseSeconds})
      from mine where d.id = mine.id`,
  );
  const gone = await query<{ id: number }>(
    db,
    sql`select id::float8 as id from deliveries
      where id = any(${list}) and (status <> 'sending' or lease_owner is distinct from ${settings.owner})`,
  );
  return new Set(gone.map((r) => r.id));
}
