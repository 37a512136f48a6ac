import { existsSync, readFileSync } from "node:fs";
import { desc, eq, sql } from "drizzle-orm";
import { loadConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { issues, sends } from "../db/schema.js";
import { DigestError, InputError } from "../errors.js";
import { findIssue, saveIssue } from "../issues/store.js";
import { openProducer, queueSettingsOf } from "../queues.js";
import { type ControlAction, controlSend } from "../sending/control.js";
import type { PlanDeps } from "../sending/plan.js";
import { startSend } from "../sending/plan.js";
import { loadSendStatus, type SendProgress } from "../sending/status.js";
import { newsletterFor, openConfiguredDatabase } from "./context.js";

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

async function withDatabase<T>(fn: (database: Database) => Promise<T>): Promise<T> {
  const database = await openConfiguredDatabase();
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

export interface SendOptions {
  test?: string[];
  at?: string;
  again?: boolean;
  follow?: boolean;
  newsletter?: string;
}

export async function sendCommand(target: string, opts: SendOptions): Promise<number> {
  loadConfig(["secret"]);
  const at = opts.at === undefined ? undefined : new Date(opts.at);
  if (at && Number.isNaN(at.getTime()))
    throw new DigestError("invalid", `--at "${opts.at}" is not an ISO time`);
  const started = await withSending(async (plan) => {
    const issueId = await resolveIssue(plan.database, target, opts.newsletter);
    return startSend(plan, {
      issueId,
      ...(opts.test ? { test: opts.test } : {}),
      ...(at ? { at } : {}),
      again: opts.again === true,
    });
  });
  process.stdout.write(`${started.sendId}\n`);
  process.stderr.write(
    `send ${started.sendId}: ${started.status}, ${started.deliveries} deliveries planned` +
      `${started.status === "scheduled" ? ` for ${at?.toISOString()}` : ""}\n`,
  );
  if (!started.enqueued)
    process.stderr.write("warning: Redis did not take the jobs; a worker's reconciler will enqueue them\n");
  return opts.follow ? withDatabase((database) => followSend(database, started.sendId)) : 0;
}

async function resolveIssue(database: Database, target: string, newsletterOpt?: string): Promise<string> {
  if (existsSync(target)) {
    let source: string;
    try {
      source = readFileSync(target, "utf8");
    } catch (error) {
      throw new InputError(target, undefined, "cannot read the issue file", { cause: error });
    }
    const saved = await saveIssue(database.db, source, newsletterFor(newsletterOpt), target);
    return saved.issue.id;
  }
  const issue = await findIssue(database.db, target);
  if (!issue)
    throw new DigestError("not_found", `"${target}" is neither an issue file nor a stored issue id or slug`);
  return issue.id;
}

/** Progress until the send is done: a bar on a terminal, plain lines otherwise (stderr). */
export async function followSend(database: Database, sendId: string): Promise<number> {
  const tty = process.stderr.isTTY === true;
  const { SingleBar, Presets } = await import("cli-progress");
  const bar = tty
    ? new SingleBar(
        {
          format: "{bar} {value}/{total} | {rate} msg/s | ETA {eta_formatted} | {state}",
          stream: process.stderr,
        },
        Presets.shades_classic,
      )
    : undefined;
  let lastLine = 0;
  let started = false;
  for (;;) {
    const s = await loadSendStatus(database, sendId);
    const handled = s.total - s.queued - s.sending - s.deferred;
    if (bar) {
      if (!started) bar.start(s.total, handled, { rate: s.rate, state: s.status });
      bar.setTotal(s.total);
      bar.update(handled, { rate: s.rate, state: s.status });
      started = true;
    } else if (Date.now() - lastLine > 2000 || s.status === "done" || s.status === "cancelled") {
      process.stderr.write(`${summary(s)}\n`);
      lastLine = Date.now();
    }
    if (s.status === "done" || s.status === "cancelled") {
      bar?.stop();
      if (bar) process.stderr.write(`${summary(s)}\n`);
      return s.status === "done" ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function summary(s: SendProgress): string {
  const eta = s.etaSeconds === null ? "?" : `${s.etaSeconds}s`;
  return (
    `${s.sendId} ${s.status}: sent ${s.sent}/${s.total}, queued ${s.queued}, sending ${s.sending}, ` +
    `deferred ${s.deferred}, failed ${s.failed}, bounced ${s.bounced}, skipped ${s.skipped}, ` +
    `ambiguous ${s.ambiguous}, ${s.rate} msg/s, time left ${eta}` +
    (s.pausedReason && s.status === "paused" ? ` (${s.pausedReason})` : "")
  );
}

export async function statusCommand(sendId: string | undefined, opts: { json?: boolean }): Promise<number> {
  const status = await withDatabase((database) => loadSendStatus(database, sendId));
  process.stdout.write(opts.json ? `${JSON.stringify(status)}\n` : `${summary(status)}\n`);
  return 0;
}

export async function controlCommand(action: ControlAction, sendId: string): Promise<number> {
  const result = await withSending((plan) => controlSend(plan, sendId, action));
  const rows =
    action === "retry"
      ? `, ${result.rows} deliveries re-queued`
      : action === "cancel"
        ? `, ${result.rows} skipped`
        : "";
  process.stdout.write(`${result.sendId} ${result.status}${rows}\n`);
  return 0;
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
        .select({ id: sends.id, status: sends.status, test: sends.isTest, createdAt: sends.createdAt })
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
        `  send ${s.id}\t${s.status}${s.test ? "\t(test)" : ""}\t${s.createdAt.toISOString()}\n`,
      );
  }
  return 0;
}
