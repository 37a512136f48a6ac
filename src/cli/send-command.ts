import { existsSync, readFileSync } from "node:fs";
import { desc, eq, sql } from "drizzle-orm";
import { loadConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { issues, sends } from "../db/schema.js";
import { DigestError, InputError } from "../errors.js";
import { renditionHash } from "../issues/approval.js";
import { formatProblem } from "../issues/lint.js";
import { findIssue, saveIssue } from "../issues/store.js";
import { openProducer, queueSettingsOf } from "../queues.js";
import { approveSend, type PendingApproval, pendingApproval } from "../sending/approval.js";
import { countAudience, plural } from "../sending/audience.js";
import {
  BreakerPausedError,
  type ControlAction,
  type ControlResult,
  controlSend,
} from "../sending/control.js";
import { describeTime, parseSendTime } from "../sending/local-time.js";
import { type PlanDeps, refuseSecondSend, startSend } from "../sending/plan.js";
import { resolveSend } from "../sending/resolve.js";
import { loadSendStatus } from "../sending/status.js";
import { cliActor } from "../staff/audit.js";
import { confirmOnTerminal } from "./confirm.js";
import { newsletterFor, openConfiguredDatabase, withDatabase } from "./context.js";
import { relayRateView } from "./relay-rate-view.js";
import { followSend, statusText } from "./status-text.js";

// The demo follows its send the way `digest send --follow` does.
export { followSend };

/** The staff side of sending: `digest send | status | retry | pause | resume | cancel | issues list`. */
async function withSending<T>(fn: (plan: PlanDeps) => Promise<T>): Promise<T> {
  const settings = loadConfig(["redisUrl", "queuePrefix", "sendBatchSize"]);
  const database = await openConfiguredDatabase();
  const producer = openProducer(queueSettingsOf(settings));
  try {
    return await fn({ database, queue: producer.deliveries, batchSize: settings.sendBatchSize });
  } finally {
    await producer.close();
    await database.close();
  }
}

export interface SendOptions {
  test?: string[];
  at?: string;
  again?: boolean;
  follow?: boolean;
  yes?: boolean;
  newsletter?: string;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The admin's yes to mail `readers`: --yes, or that number typed on the terminal. Without either,
 * says that nothing was sent (or approved) and why.
 */
async function readersConfirmed(
  readers: number,
  yes: boolean | undefined,
  action: "send" | "approve",
): Promise<boolean> {
  if (yes) return true;
  const not = action === "send" ? "not sent" : "not approved";
  if (!process.stdin.isTTY) {
    say(
      `${not}: this would go to ${plural(readers, "active reader")}. ` +
        `Without a terminal to confirm on, add --yes to ${action}.`,
    );
    return false;
  }
  if (await confirmOnTerminal(readers)) return true;
  say(`${not}: the number did not match.`);
  return false;
}

/**
 * `digest send`. A real send asks first: on a terminal it shows the issue, the number of active
 * readers and the time, and needs that number typed back; without a terminal it needs --yes.
 * Test sends go only to the given addresses and ask nothing.
 */
export async function sendCommand(target: string, opts: SendOptions): Promise<number> {
  const { timezone, sendRate } = loadConfig(["secret", "timezone", "sendRate"]);
  const at = opts.at === undefined ? undefined : parseSendTime(opts.at, timezone);
  if (at && at.getTime() < Date.now() - 60_000)
    throw new DigestError("invalid", `--at ${describeTime(at, timezone)} is in the past`);
  const test = opts.test !== undefined;
  const outcome = await withSending(async (plan) => {
    const issue = await resolveIssue(plan.database, target, opts.newsletter);
    let confirmed: number | undefined;
    if (!test) {
      // Refused anyway by startSend; said before asking, so nobody types a count for nothing.
      if (!opts.again) await refuseSecondSend(plan.database.db, issue.id);
      const readers = await countAudience(plan.database);
      const when = at && at.getTime() > Date.now() + 1000 ? `at ${describeTime(at, timezone)}` : "now";
      say(`issue:   ${issue.slug} "${issue.subject}"`);
      say(`readers: ${plural(readers, "active reader")}`);
      say(`time:    ${when}`);
      if (!(await readersConfirmed(readers, opts.yes, "send"))) return undefined;
      confirmed = readers;
    }
    const started = await startSend(plan, {
      issueId: issue.id,
      ...(opts.test ? { test: opts.test } : {}),
      ...(at ? { at } : {}),
      again: opts.again === true,
      // The admin confirmed the text read above: an edit stored since is refused, not sent unseen.
      ...(test ? {} : { shown: renditionHash(issue) }),
    });
    return { started, confirmed };
  });
  if (!outcome) return 2;
  const { started, confirmed } = outcome;
  process.stdout.write(`${started.sendId}\n`);
  if (started.status === "scheduled" && at) {
    say(
      `send ${started.sendId}: scheduled for ${describeTime(at, timezone)}; the list is read when it starts`,
    );
  } else {
    say(
      `send ${started.sendId}: ${started.status}, ${plural(started.deliveries, "delivery", "deliveries")} planned`,
    );
    if (confirmed !== undefined && confirmed !== started.deliveries)
      say(
        `note: ${plural(confirmed, "reader")} were confirmed; the list changed since, and the send planned ${started.deliveries}`,
      );
  }
  if (!started.enqueued)
    say(
      "note: Redis did not take the jobs now; the rows are stored and a worker queues them when it reconciles",
    );
  if (!opts.follow) {
    say(`watch it with: digest status ${started.sendId} --follow`);
    return 0;
  }
  const relay = relayRateView({ ...loadConfig(["redisUrl", "queuePrefix"]), sendRate });
  try {
    return await withDatabase((database) =>
      followSend(database, started.sendId, { sendRate, timezone, rateLimit: relay.rateLimit }),
    );
  } finally {
    relay.close();
  }
}

async function resolveIssue(database: Database, target: string, newsletterOpt?: string) {
  if (existsSync(target)) {
    let source: string;
    try {
      source = readFileSync(target, "utf8");
    } catch (error) {
      throw new InputError(target, undefined, "cannot read the issue file", { cause: error });
    }
    const saved = await saveIssue(database.db, source, newsletterFor(newsletterOpt), target);
    for (const w of saved.warnings) say(formatProblem(target, w));
    for (const id of saved.unapprovedSends)
      say(
        `note: send ${id} was approved for the earlier text of ${saved.issue.slug}; it now waits for an ` +
          `admin and will not start until approved again: digest resume ${id}`,
      );
    return saved.issue;
  }
  const issue = await findIssue(database.db, target);
  if (!issue)
    throw new DigestError("not_found", `"${target}" is neither an issue file nor a stored issue id or slug`);
  return issue;
}

export async function statusCommand(
  ref: string | undefined,
  opts: { json?: boolean; follow?: boolean },
): Promise<number> {
  const settings = loadConfig(["timezone", "sendRate", "redisUrl", "queuePrefix"]);
  const { timezone, sendRate } = settings;
  const relay = relayRateView(settings);
  const options = { sendRate, rateLimit: relay.rateLimit };
  try {
    return await withDatabase(async (database) => {
      if (opts.follow && !opts.json) {
        const sendId = await resolveSend(database, ref);
        return followSend(database, sendId, { ...options, timezone });
      }
      if (opts.follow) {
        // JSON lines until the send ends: one object per change, for scripts.
        const sendId = await resolveSend(database, ref);
        let last = "";
        for (;;) {
          const status = await loadSendStatus(database, sendId, options);
          const line = JSON.stringify(status);
          if (line !== last) process.stdout.write(`${line}\n`);
          last = line;
          if (status.status === "done" || status.status === "cancelled") return 0;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
      const status = await loadSendStatus(database, ref, options);
      process.stdout.write(opts.json ? `${JSON.stringify(status)}\n` : `${statusText(status, timezone)}\n`);
      return 0;
    });
  } finally {
    relay.close();
  }
}

export async function controlCommand(
  action: ControlAction,
  ref: string | undefined,
  opts: { yes?: boolean; force?: boolean } = {},
): Promise<number> {
  const { timezone } = loadConfig(["timezone"]);
  const result = await withSending(async (plan) => {
    const sendId = await resolveSend(plan.database, ref);
    const waiting = action === "resume" ? await pendingApproval(plan.database.db, sendId) : undefined;
    if (waiting) return approveCommand(plan, waiting, opts, timezone);
    try {
      return await controlSend(plan, sendId, action, { force: opts.force === true });
    } catch (error) {
      if (!(error instanceof BreakerPausedError)) throw error;
      say(`paused by its ${error.breaker} breaker: ${error.reason}`);
      say(`not resumed: look at the list first, then go on with: digest ${action} ${sendId} --force`);
      return undefined;
    }
  });
  if (result === undefined) return 2;
  const rows =
    action === "retry"
      ? `, ${plural(result.rows, "delivery", "deliveries")} re-queued`
      : action === "cancel"
        ? `, ${plural(result.rows, "delivery", "deliveries")} skipped`
        : "";
  process.stdout.write(`${result.sendId} ${result.status}${rows}\n`);
  return 0;
}

/**
 * `digest resume` of a send waiting for approval: asks exactly as `digest send` does (the issue,
 * the readers, the time; the count typed back, or --yes without a terminal), then approves the
 * issue's text as it is now.
 */
async function approveCommand(
  plan: PlanDeps,
  waiting: PendingApproval,
  opts: { yes?: boolean },
  timezone: string,
): Promise<ControlResult | undefined> {
  const issue = await findIssue(plan.database.db, waiting.issueId);
  if (!issue) throw new DigestError("not_found", `no issue ${waiting.issueId}`);
  const readers = await countAudience(plan.database);
  const due = waiting.scheduledAt.getTime() > Date.now();
  say(`waiting: ${waiting.reason}`);
  say(`issue:   ${issue.slug} "${issue.subject}" (the text stored now; see it with digest render)`);
  say(`readers: ${plural(readers, "active reader")}`);
  say(`time:    ${due ? `at ${describeTime(waiting.scheduledAt, timezone)}` : "now (its time has passed)"}`);
  if (!(await readersConfirmed(readers, opts.yes, "approve"))) return undefined;
  const approved = await approveSend(plan, cliActor, waiting.sendId, renditionHash(issue));
  say(`approved: the send carries the issue's current text`);
  return { sendId: approved.sendId, status: approved.status, rows: 0 };
}

export async function issuesListCommand(opts: { json?: boolean }): Promise<number> {
  const rows = await withDatabase(async (database) => {
    const list = await database.db
      .select({ id: issues.id, slug: issues.slug, subject: issues.subject, date: issues.issueDate })
      .from(issues)
      .orderBy(desc(issues.createdAt));
    const out = [];
    for (const issue of list) {
      const issueSends = await database.db
        .select({
          id: sends.id,
          status: sends.status,
          test: sends.isTest,
          createdAt: sends.createdAt,
          needsApproval: sql<boolean>`${sends.status} = 'scheduled' and ${sends.unapprovedReason} is not null`,
        })
        .from(sends)
        .where(eq(sends.issueId, issue.id))
        .orderBy(sql`${sends.createdAt} desc`);
      out.push({ ...issue, sends: issueSends });
    }
    return out;
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  if (rows.length === 0) process.stderr.write("no issues stored yet (digest send FILE stores one)\n");
  for (const issue of rows) {
    process.stdout.write(`${issue.slug}\t${issue.id}\t${issue.date}\t${issue.subject}\n`);
    for (const s of issue.sends)
      process.stdout.write(
        `  send ${s.id}\t${s.status}${s.test ? "\t(test)" : ""}${s.needsApproval ? "\t(waits for an admin: digest resume)" : ""}\t${s.createdAt.toISOString()}\n`,
      );
  }
  return 0;
}
