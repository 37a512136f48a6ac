import { sql } from "drizzle-orm";
import { classifySmtpError, type SmtpFailure } from "../bounces/classify.js";
import { recordBounce } from "../bounces/record.js";
import type { Database } from "../db/database.js";
import type { DeliveryBatchJob } from "../queues.js";
import type { MailIdentity } from "./identity.js";
import type { Mailer } from "./mailer.js";
import type { RateLimiter } from "./rate.js";
import { messageId, readerLinks, returnPath } from "./reader-links.js";
import { buildTemplate, type MessageBuffers, type MessageTemplate, spliceMessage } from "./template.js";

/**
 * One batch job: claim due rows (one conditional UPDATE), send them over the pooled transport at
 * the shared rate, then write every outcome in one UPDATE. A row is only ever `sent` after the
 * server's 250; a worker that dies in between leaves it `sending` until its lease runs out, and the
 * reconciler sends it again as ambiguous.
 */
export interface DeliverSettings {
  secret: string;
  leaseSeconds: number;
  retryBaseSeconds: number;
  deferHorizonSeconds: number;
  softBounceLimit: number;
  /** Rows claimed per round: small enough that pause/cancel bite within about a second. */
  claimSize: number;
  /** Policy (5.7.x) failures within five minutes that pause the send. */
  policyPauseAfter: number;
  /**
   * Messages of one claim handed to SMTP at a time: a couple per pool connection keeps the pool
   * busy, and a message built just before its turn dies young instead of waiting in the pool's
   * queue long enough to be promoted to the old generation (that was most of a worker's RSS).
   */
  inFlight?: number;
}

export interface DeliverDeps {
  database: Database;
  mailer: Mailer;
  identity: MailIdentity;
  rate: RateLimiter;
  /** Who holds a claim: unique per worker process. */
  owner: string;
  settings: DeliverSettings;
  sends: SendCache;
  /** Reused message buffers; without them every message is a fresh allocation. */
  buffers?: MessageBuffers;
}

interface Claimed {
  id: number;
  subscriber_id: string | null;
  email: string;
  attempts: number;
}

type Failure = SmtpFailure & { response: string };

interface Outcome {
  id: number;
  status: "sent" | "deferred" | "failed" | "bounced";
  response: string;
  delay: number | null;
  /** The connection died or went silent mid-session: the server may hold the message already. */
  ambiguous?: boolean;
}

export interface BatchResult {
  sent: number;
  deferred: number;
  failed: number;
  bounced: number;
}

export async function deliverBatch(deps: DeliverDeps, job: DeliveryBatchJob): Promise<BatchResult> {
  const totals: BatchResult = { sent: 0, deferred: 0, failed: 0, bounced: 0 };
  // One claim's outcomes are written while the next claim goes out, so SMTP does not wait for
  // Postgres. Crash safety is unchanged: those rows stay `sending` under our lease until the write
  // lands, and at most one write is in flight, so a crash leaves at most two claims ambiguous.
  let committing: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      const rows = await claim(deps, job);
      if (rows.length === 0) break;
      const send = await deps.sends.get(job.sendId);
      const failures = new Map<number, Failure>();
      const outcomes = await sendAll(deps, send, rows, failures);
      await committing;
      committing = commit(deps, job, rows, outcomes, failures, totals);
      // Awaited on the next round or below; this only keeps a failure from being "unhandled" meanwhile.
      committing.catch(() => {});
    }
  } finally {
    await committing;
  }
  await finishIfDone(deps.database, job.sendId);
  return totals;
}

async function commit(
  deps: DeliverDeps,
  job: DeliveryBatchJob,
  rows: Claimed[],
  outcomes: Outcome[],
  failures: Map<number, Failure>,
  totals: BatchResult,
): Promise<void> {
  await writeOutcomes(deps, outcomes);
  for (const o of outcomes) totals[o.status]++;
  await applyBounces(deps, rows, failures);
  if ([...failures.values()].some((f) => f.policy)) await pauseOnPolicyFailures(deps, job.sendId);
}

async function claim(deps: DeliverDeps, job: DeliveryBatchJob): Promise<Claimed[]> {
  const { database, owner, settings } = deps;
  // The send row is read FOR SHARE so a pause or cancel (an UPDATE of it) waits for a claim in
  // progress, and no claim starts after it commits.
  return database.query<Claimed & Record<string, unknown>>(sql`
    with send as (select id from sends where id = ${job.sendId} and status = 'running' for share),
    due as (
      select d.id,
        case when d.subscriber_id is null then d.address is not null else sub.status = 'active' end as live,
        coalesce(d.address, sub.email) as email
      from deliveries d join send on send.id = d.send_id
      left join subscribers sub on sub.id = d.subscriber_id
      where d.id between ${job.fromId} and ${job.toId}
        and (d.status = 'queued' or (d.status = 'deferred' and d.next_attempt_at <= now()))
      order by d.id limit ${settings.claimSize}
      for update of d skip locked),
    claimed as (
      update deliveries d set
        status = case when due.live then 'sending' else 'skipped' end,
        lease_owner = case when due.live then ${owner} end,
        lease_until = case when due.live then now() + make_interval(secs => ${settings.leaseSeconds}) end,
        attempts = d.attempts + case when due.live then 1 else 0 end,
        last_response = case when due.live then d.last_response else 'reader no longer active' end,
        updated_at = now()
      from due where d.id = due.id
      returning d.id::float8 as id, d.subscriber_id, due.email, due.live, d.attempts::int as attempts)
    select id, subscriber_id, email, attempts from claimed where live order by id`);
}

const zeroUuid = "00000000-0000-0000-0000-000000000000";

async function sendAll(
  deps: DeliverDeps,
  send: SendContext,
  rows: Claimed[],
  failures: Map<number, Failure>,
): Promise<Outcome[]> {
  const { identity, settings } = deps;
  const pending: Outcome[] = [];
  let i = 0;
  while (i < rows.length) {
    const got = await deps.rate.take(rows.length - i);
    pending.push(...(await mapLimited(rows.slice(i, i + got), settings.inFlight ?? 10, sendOne)));
    i += got;
  }
  return pending;

  async function sendOne(row: Claimed): Promise<Outcome> {
    let raw: Buffer;
    try {
      const links = readerLinks(
        identity,
        settings.secret,
        { subscriberId: row.subscriber_id ?? zeroUuid, email: row.email },
        send.slug,
      );
      raw = spliceMessage(
        send.template,
        { ...links, messageId: messageId(identity, settings.secret, send.id, row.id) },
        deps.buffers,
      );
    } catch (error) {
      return { id: row.id, status: "failed", response: `not sent: ${(error as Error).message}`, delay: null };
    }
    try {
      const result = await deps.mailer.sendRaw(
        { from: returnPath(identity, settings.secret, row.id), to: [row.email] },
        raw,
      );
      // The server has the whole message (250 to DATA): nodemailer is done with these bytes. After a
      // failure they are left to the GC, as a dropped connection may still hold them.
      deps.buffers?.give(raw);
      return { id: row.id, status: "sent", response: result.response, delay: null };
    } catch (error) {
      const answer = smtpAnswer(error);
      const failure = classifySmtpError(answer);
      const response = (answer.response ?? String((error as Error).message)).slice(0, 500);
      failures.set(row.id, { ...failure, response });
      if (failure.permanent)
        return { id: row.id, status: failure.type === "hard" ? "bounced" : "failed", response, delay: null };
      return { ...deferral(settings, send, row, response), ambiguous: lostMidSession(error) };
    }
  }
}

/**
 * A connection closed or timed out without an answer: if that was after the final dot, the server
 * may have queued the message, and the retry is a second copy. nodemailer does not say at which
 * step it happened, so every such loss counts as ambiguous (an upper bound, never an undercount).
 */
function lostMidSession(error: unknown): boolean {
  const { code, responseCode } = error as { code?: string; responseCode?: number };
  return responseCode === undefined && (code === "ECONNECTION" || code === "ETIMEDOUT");
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await fn(items[at] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** nodemailer puts a RCPT refusal in `rejectedErrors`; the top-level error then only says EENVELOPE. */
function smtpAnswer(error: unknown): { responseCode?: number; response?: string; command?: string } {
  const e = error as {
    responseCode?: number;
    response?: string;
    command?: string;
    rejectedErrors?: { responseCode?: number; response?: string; command?: string }[];
  };
  return e.rejectedErrors?.[0] ?? e;
}

function deferral(settings: DeliverSettings, send: SendContext, row: Claimed, response: string): Outcome {
  const { id } = row;
  // Growing backoff (attempts counts claims, this one included), capped at six hours; past the
  // horizon the row is given up.
  const delay = Math.min(settings.retryBaseSeconds * 2 ** Math.max(0, row.attempts - 1), 6 * 3600);
  const givenUp = Date.now() + delay * 1000 > send.startedAt + settings.deferHorizonSeconds * 1000;
  return givenUp
    ? { id, status: "failed", response: `gave up after retries: ${response}`, delay: null }
    : { id, status: "deferred", response, delay };
}

async function writeOutcomes(deps: DeliverDeps, outcomes: Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await deps.database.query(sql`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify(outcomes)}::jsonb)
        as v(id bigint, status text, response text, delay float8, ambiguous boolean)),
    done as (
      update deliveries d set
        status = v.status,
        last_response = v.response,
        next_attempt_at = case when v.delay is null then null else now() + make_interval(secs => v.delay) end,
        sent_at = case when v.status = 'sent' then now() else d.sent_at end,
        ambiguous = d.ambiguous + case when v.ambiguous then 1 else 0 end,
        lease_owner = null, lease_until = null, updated_at = now()
      from v where d.id = v.id and d.status = 'sending' and d.lease_owner = ${deps.owner}
      returning d.subscriber_id, d.status)
    update subscribers s set soft_bounces = 0
    from done where s.id = done.subscriber_id and done.status = 'sent' and s.soft_bounces > 0`);
}

/** Unknown users are suppressed at once; other permanent refusals count as soft bounces, except 5.7.x. */
async function applyBounces(deps: DeliverDeps, rows: Claimed[], failures: Map<number, Failure>) {
  for (const row of rows) {
    const failure = failures.get(row.id);
    if (!failure?.permanent || failure.policy || row.subscriber_id === null) continue;
    await recordBounce(
      { db: deps.database.db, softBounceLimit: deps.settings.softBounceLimit },
      {
        bounce: {
          type: failure.type,
          recipients: [
            {
              address: row.email,
              status: "",
              action: "failed",
              diagnostic: failure.response,
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

async function pauseOnPolicyFailures(deps: DeliverDeps, sendId: string): Promise<void> {
  await deps.database.query(sql`
    update sends set status = 'paused', paused_reason = 'policy or authentication refusals (5.7.x) keep coming: fix DKIM/SPF/reputation, then digest retry and resume',
      updated_at = now()
    where id = ${sendId} and status = 'running'
      and (select count(*) from deliveries where send_id = ${sendId} and status = 'failed'
           and updated_at > now() - interval '5 minutes' and last_response ~ '5\\.7\\.[0-9]')
          >= ${deps.settings.policyPauseAfter}`);
}

/** A send is done when no row is left to send: derived from rows, never from a counter. */
export async function finishIfDone(database: Database, sendId: string): Promise<boolean> {
  const rows = await database.query(sql`
    update sends set status = 'done', finished_at = now(), updated_at = now()
    where id = ${sendId} and status = 'running'
      and not exists (select 1 from deliveries where send_id = ${sendId}
                      and status in ('queued', 'sending', 'deferred'))
    returning id`);
  return rows.length > 0;
}

/** What a worker keeps per send: the message built once, and the send's start for the retry horizon. */
export interface SendContext {
  id: string;
  slug: string;
  startedAt: number;
  template: MessageTemplate;
}

export interface SendCache {
  get(sendId: string): Promise<SendContext>;
}

export function sendCache(database: Database, identity: MailIdentity, limit = 8): SendCache {
  const cache = new Map<string, Promise<SendContext>>();
  return {
    get(sendId) {
      let entry = cache.get(sendId);
      if (!entry) {
        entry = load(sendId);
        entry.catch(() => cache.delete(sendId));
        cache.set(sendId, entry);
        if (cache.size > limit) cache.delete(cache.keys().next().value as string);
      }
      return entry;
    },
  };

  async function load(sendId: string): Promise<SendContext> {
    const [row] = await database.query<{
      slug: string;
      subject: string;
      html: string;
      text: string;
      started_at: string | Date | null;
    }>(sql`select i.slug, i.subject, i.html, i.text, s.started_at from sends s join issues i on i.id = s.issue_id
           where s.id = ${sendId}`);
    if (!row) throw new Error(`send ${sendId} is gone`);
    const template = await buildTemplate({
      identity,
      subject: row.subject,
      rendition: { html: row.html, text: row.text },
    });
    const startedAt = row.started_at ? new Date(row.started_at).getTime() : Date.now();
    return { id: sendId, slug: row.slug, startedAt, template };
  }
}
