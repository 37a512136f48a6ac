import type { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { type Database, type Db, query } from "../db/database.js";
import { DigestError } from "../errors.js";
import {
  type ApprovedRendition,
  checkShownRendition,
  renditionHash,
  renditionHashSql,
} from "../issues/approval.js";
import { batchJobId, type DeliveriesJob, deliveryJobOptions } from "../queues.js";
import { type Actor, recordAudit } from "../staff/audit.js";
import { isSendableAddress } from "../subscribers/address.js";

/**
 * Starting a send: the active, unsuppressed readers are snapshotted into `deliveries` by one
 * INSERT ... SELECT (one row per reader, unique), then batch jobs naming id ranges are enqueued.
 * Nothing here advances on fetch: rows say what is done, jobs only say where to look.
 */
export interface PlanDeps {
  database: Database;
  queue: Queue<DeliveriesJob>;
  batchSize: number;
}

export interface StartSendInput {
  issueId: string;
  /** Test send: only these addresses, not shown in the archive. */
  test?: string[];
  /** Start later (status `scheduled`); a worker starts it when due. */
  at?: Date;
  /** Allow a second non-test send of the same issue. */
  again?: boolean;
  /**
   * The fingerprint (renditionHash) of the text the admin was shown, when the edge has one: a text
   * that changed since is refused rather than approved unseen.
   */
  shown?: string;
}

export interface StartedSend {
  sendId: string;
  status: "scheduled" | "running";
  deliveries: number;
  /** False when the rows are stored but Redis could not take the jobs (the reconciler will). */
  enqueued: boolean;
}

export async function startSend(deps: PlanDeps, input: StartSendInput): Promise<StartedSend> {
  const test = input.test ?? [];
  const bad = test.filter((a) => !isSendableAddress(a));
  if (bad.length > 0) throw new DigestError("invalid", `not a sendable address: ${bad.join(", ")}`);
  if (input.test && test.length === 0) throw new DigestError("invalid", "a test send needs an address");
  if (input.at && Number.isNaN(input.at.getTime())) throw new DigestError("invalid", "--at is not a time");
  const scheduled = input.at !== undefined && input.at.getTime() > Date.now() + 1000;

  const result = await deps.database.db.transaction(async (tx) => {
    // Locking the issue row makes two `digest send` of one issue take turns, so --again means it.
    const [issue] = await query<ApprovedRendition & { id: string; volume: string }>(
      tx,
      sql`select id, volume, subject, html, text from issues where id = ${input.issueId} for update`,
    );
    if (!issue) throw new DigestError("not_found", `no issue ${input.issueId}`);
    checkShownRendition(issue, input.shown, issue.volume);
    if (test.length === 0 && !input.again) await refuseSecondSend(tx, issue.id);
    // The send carries the text approved now: workers mail this copy, whatever the issue becomes.
    const [send] = await query<{ id: string }>(
      tx,
      sql`
      insert into sends (issue_id, status, is_test, scheduled_at, started_at, subject, html, text,
        approved_rendition)
      values (${issue.id}, ${scheduled ? "scheduled" : "running"}, ${test.length > 0},
        ${(input.at ?? new Date()).toISOString()}, ${scheduled ? null : sql`now()`},
        ${issue.subject}, ${issue.html}, ${issue.text}, ${renditionHash(issue)})
      returning id`,
    );
    if (!send) throw new Error("insert returned no send");
    let deliveries = 0;
    if (test.length > 0) {
      const rows = await query(
        tx,
        sql`insert into deliveries (send_id, address)
        select ${send.id}, a from jsonb_array_elements_text(${JSON.stringify([...new Set(test)])}::jsonb) as a
        returning id`,
      );
      deliveries = rows.length;
    } else if (!scheduled) deliveries = await planDeliveries(tx, send.id);
    // A test send publishes nothing: publishIssueOf reads is_test from the send row.
    if (!scheduled) await publishIssueOf(tx, send.id);
    return { sendId: send.id, deliveries };
  });
  if (result.deliveries >= analyzeAfter) await refreshPlannerStatistics(deps.database.db);
  const status = scheduled ? "scheduled" : "running";
  let enqueued = true;
  try {
    if (scheduled) await enqueueDueCall(deps.queue, result.sendId, input.at as Date);
    else await enqueueBatches(deps, result.sendId, 0);
  } catch {
    enqueued = false;
  }
  return { ...result, status, enqueued };
}

/** Sends smaller than this leave the statistics to autovacuum: their claims are cheap either way. */
const analyzeAfter = 1000;

/**
 * Tells the planner about the rows a send just added. Until autovacuum gets to it (up to a minute
 * or more), Postgres believes the new send has a handful of rows and claims a batch through the
 * (send_id, status) index: every claim then reads every row of the send, which is quadratic in the
 * size of the send. With fresh statistics it reads the batch's id range from the primary key.
 */
export async function refreshPlannerStatistics(db: Db): Promise<void> {
  await query(db, sql`analyze deliveries`);
}

/** A second real send of one issue needs `--again`: a repeated command must not mail everyone twice. */
export async function refuseSecondSend(db: Db, issueId: string): Promise<void> {
  const [earlier] = await query<{ id: string; status: string; waits: boolean }>(
    db,
    sql`
    select id, status, (status = 'scheduled' and unapproved_reason is not null) as waits
    from sends where issue_id = ${issueId} and not is_test and status <> 'cancelled'
    order by created_at desc limit 1`,
  );
  if (earlier?.waits)
    throw new DigestError(
      "conflict",
      `this issue already has send ${earlier.id}, scheduled and waiting for an admin to approve the ` +
        `changed text: approve it with \`digest resume ${earlier.id}\` (or use --again for another send)`,
    );
  if (earlier)
    throw new DigestError(
      "conflict",
      `this issue already has send ${earlier.id} (${earlier.status}); use --again to send it again`,
    );
}

/** The first real send to start publishes its issue (archive, feed; its text frozen); a test send, nothing. */
export async function publishIssueOf(db: Db, sendId: string): Promise<void> {
  await query(
    db,
    sql`update issues set published_at = now() where published_at is null
      and id = (select issue_id from sends where id = ${sendId} and not is_test)`,
  );
}

/**
 * The snapshot: every active reader whose address is not suppressed, in one statement. Only ever
 * run for a send that has no rows yet (in the transaction that makes it `running`), so there is no
 * ON CONFLICT: speculative insertion cost a third of the time at 1M readers, and a second run
 * fails loudly on the unique index instead of passing silently. Rows go in in subscriber id order,
 * so the (send, subscriber) index grows at its right edge; the sort gets the memory it needs.
 */
export async function planDeliveries(db: Db, sendId: string): Promise<number> {
  await query(db, sql`select set_config('work_mem', '64MB', true)`);
  const [row] = await query<{ n: number }>(
    db,
    sql`
    with planned as (
      insert into deliveries (send_id, subscriber_id)
      select ${sendId}, s.id from subscribers s
      where s.status = 'active'
        and not exists (
          select 1 from suppressions x
          where x.address_hash = encode(sha256(convert_to(lower(s.email), 'UTF8')), 'hex'))
      order by s.id
      returning 1)
    select count(*)::int as n from planned`,
  );
  return row?.n ?? 0;
}

/**
 * Enqueues a job for every batch of the send that still has due rows. Job ids are deterministic, so
 * BullMQ ignores a job that is still waiting or running: the same call re-creates exactly the jobs
 * Redis lost (flushed, restarted) and nothing else.
 */
export async function enqueueBatches(deps: PlanDeps, sendId: string, generation?: number): Promise<number> {
  const size = deps.batchSize;
  const rows = await query<{ batch: number; generation: number }>(
    deps.database.db,
    sql`
    select (d.id / ${size})::float8 as batch, s.generation::int as generation
    from deliveries d join sends s on s.id = d.send_id
    where d.send_id = ${sendId} and s.status = 'running'
      and (d.status = 'queued' or (d.status = 'deferred' and d.next_attempt_at <= now()))
    group by 1, 2 order by 1`,
  );
  const jobs = rows.map(({ batch, generation: current }) => {
    const gen = generation ?? current;
    return {
      name: "batch",
      data: { sendId, fromId: batch * size, toId: batch * size + size - 1, generation: gen },
      opts: { ...deliveryJobOptions, jobId: batchJobId(sendId, batch, gen) },
    };
  });
  for (let i = 0; i < jobs.length; i += 1000) await deps.queue.addBulk(jobs.slice(i, i + 1000));
  return jobs.length;
}

export async function enqueueDueCall(queue: Queue<DeliveriesJob>, sendId: string, at: Date): Promise<void> {
  await queue.add(
    "due",
    { sendId, due: true },
    // BullMQ refuses a custom id with one ':' ("Custom Id cannot contain :"), so a dash.
    { ...deliveryJobOptions, jobId: `${sendId}-due`, delay: Math.max(0, at.getTime() - Date.now()) },
  );
}

/** Who un-approves a due send whose text is not the approved one, in the audit log. */
export const workerActor: Actor = { email: "worker" };

/**
 * Starts every scheduled send that is due: status and snapshot in one transaction. A send whose
 * issue changed after its approval waits for an admin (sending/approval.ts), however late. Belt and
 * braces: a due send also starts only while its copy and its issue's stored text both still have the
 * fingerprint its admin approved; one that lost it (a write that went around the store) is
 * un-approved instead of started, so its issue is not published with a text nobody approved.
 */
export async function startDueSends(deps: PlanDeps): Promise<string[]> {
  const started = await deps.database.db.transaction(async (tx) => {
    const due = await query<{ id: string; volume: string; slug: string; approved: boolean }>(
      tx,
      sql`
      select s.id, i.volume, i.slug, coalesce(
          s.approved_rendition = ${renditionHashSql(sql`s.subject`, sql`s.html`, sql`s.text`)}
          and (s.subject, s.html, s.text) = (i.subject, i.html, i.text), false) as approved
      from sends s join issues i on i.id = s.issue_id
      where s.status = 'scheduled' and s.scheduled_at <= now() and s.unapproved_reason is null
      for update of s skip locked`,
    );
    const ready = due.filter((s) => s.approved).map((s) => s.id);
    for (const send of due.filter((s) => !s.approved)) {
      const reason =
        `Vol ${send.volume} holds another text than the one approved for this send; ` +
        "it will not start until an admin approves the text stored now";
      await query(
        tx,
        sql`update sends set unapproved_reason = ${reason}, updated_at = now()
          where id = ${send.id} and status = 'scheduled' and unapproved_reason is null`,
      );
      await recordAudit(tx, workerActor, "send.unapproved", send.id, { issue: send.slug, reason });
    }
    if (ready.length > 0)
      await query(
        tx,
        sql`update sends set status = 'running', started_at = now(), updated_at = now()
          where id in (${sql.join(
            ready.map((id) => sql`${id}`),
            sql`, `,
          )})`,
      );
    for (const id of ready) {
      await planDeliveries(tx, id);
      await publishIssueOf(tx, id);
    }
    return ready;
  });
  if (started.length > 0) await refreshPlannerStatistics(deps.database.db);
  for (const id of started) await enqueueBatches(deps, id);
  return started;
}
