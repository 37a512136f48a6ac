import type { Database } from "../db/database.js";
import { describeTime } from "../sending/local-time.js";
import type { RateLimit } from "../sending/relay-rate.js";
import type { SendReport } from "../sending/report.js";
import { loadSendStatus, type SendProgress, type StatusOptions } from "../sending/status.js";
import { visibleText } from "../visible-text.js";

/** `digest status` for people: what the JSON says, in lines a staff member reads top to bottom. */

/** No worker took a row for this long while rows wait: say so instead of showing a stuck bar. */
export const idleWarningSeconds = 30;

const n = (v: number) => v.toLocaleString("en-US");

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function idleWarning(s: SendProgress): string | undefined {
  if (s.idleSeconds === null || s.idleSeconds < idleWarningSeconds) return undefined;
  return (
    `no worker has taken work for ${duration(s.idleSeconds)}: is \`digest worker\` running, ` +
    "with the same DATABASE_URL, REDIS_URL and QUEUE_PREFIX?"
  );
}

/**
 * The status in lines. They quote what others wrote (the relay's answers, receiving servers'
 * diagnostics, a reader's forged report), so each is shown with its control characters escaped.
 */
export function statusText(s: SendProgress, timezone: string): string {
  return statusLines(s, timezone).map(visibleText).join("\n");
}

function statusLines(s: SendProgress, timezone: string): string[] {
  const lines = [`${s.issue} send ${s.sendId}${s.test ? " (test)" : ""}: ${s.status}`];
  if (s.needsApproval) {
    const when = s.scheduledAt ? ` (scheduled for ${describeTime(new Date(s.scheduledAt), timezone)})` : "";
    lines.push(`  needs an admin again${when}: ${s.pausedReason}`);
    lines.push(`  approve the new text with: digest resume ${s.sendId}`);
    return lines;
  }
  if (s.status === "scheduled" && s.scheduledAt) {
    lines.push(
      `  scheduled for ${describeTime(new Date(s.scheduledAt), timezone)}; nothing is sent before then`,
    );
    return lines;
  }
  lines.push(
    `  sent ${n(s.sent)} of ${n(s.total)}; queued ${n(s.queued)}, sending ${n(s.sending)}, ` +
      `deferred ${n(s.deferred)}, failed ${n(s.failed)}, bounced ${n(s.bounced)}, skipped ${n(s.skipped)}, ` +
      `ambiguous ${n(s.ambiguous)}`,
  );
  if (s.status === "running" || s.status === "paused")
    lines.push(
      `  rate ${s.rate} msg/s over the last 10 s; time left ${s.secondsLeft === null ? "unknown" : duration(s.secondsLeft)}`,
    );
  const limit = rateLimitText(s.rateLimit);
  if (limit && (s.status === "running" || s.status === "paused")) lines.push(`  ${limit}`);
  if (s.status === "paused" && s.pausedReason) lines.push(`  paused: ${s.pausedReason}`);
  if (s.status === "paused" && s.guardrails.breaker)
    lines.push(`  a circuit breaker paused it: go on only with digest resume ${s.sendId} --force`);
  if (s.guardrails.warning) lines.push(`  warning: ${s.guardrails.warning}`);
  const idle = idleWarning(s);
  if (idle) lines.push(`  ${idle}`);
  for (const r of s.reasons)
    lines.push(`  ${r.status} ${n(r.count)}: ${r.reason} (e.g. "${r.example.slice(0, 160)}")`);
  if (s.report) lines.push(...reportText(s.report));
  return lines;
}

/** The shared rate in force and why, when it is not simply SEND_RATE. */
export function rateLimitText(r: RateLimit | null): string | undefined {
  if (!r || r.reason === null) return undefined;
  if (r.inForce === null) return `rate limit ${r.reason}`;
  return `rate limit ${r.inForce} msg/s of SEND_RATE ${r.configured}: ${r.reason}`;
}

export function reportText(r: SendReport): string[] {
  const lines = ["  report:"];
  lines.push(`    sent ${n(r.sent)} (accepted by the receiving servers)`);
  const bounced = r.bounced.reduce((t, b) => t + b.count, 0);
  lines.push(`    bounced ${n(bounced)}${bounced ? ":" : ""}`);
  for (const b of r.bounced) lines.push(`      ${n(b.count)} ${b.type}: ${b.reason}`);
  const complaints = r.complaints.reduce((t, c) => t + c.count, 0);
  lines.push(
    `    complaints ${n(complaints)}${r.complaints.map((c) => ` (${c.feedbackType} ${c.count})`).join("")}`,
  );
  if (r.sources.length > 0) lines.push("    where bounces and complaints came from:");
  for (const b of r.sources)
    lines.push(`      ${n(b.count)} ${b.type} via ${b.label}${b.reason ? `: ${b.reason}` : ""}`);
  lines.push(`    unsubscribes from this issue ${n(r.unsubscribes)}`);
  const failed = r.failed.reduce((t, f) => t + f.count, 0);
  lines.push(`    failed ${n(failed)}${failed ? ":" : ""}`);
  for (const f of r.failed) lines.push(`      ${n(f.count)} ${f.reason} (e.g. "${f.example.slice(0, 160)}")`);
  lines.push(`    duration ${r.durationSeconds === null ? "unknown" : duration(r.durationSeconds)}`);
  lines.push(`    ambiguous ${n(r.ambiguous)}${r.ambiguous ? " (these readers may have two copies)" : ""}`);
  return lines;
}

/**
 * Progress until the send ends (stderr): a bar on a terminal, a plain line every 2 s otherwise,
 * and the full status with its report at the end. Exits 0 when done.
 */
export async function followSend(
  database: Database,
  sendId: string,
  options: StatusOptions & { timezone?: string } = {},
): Promise<number> {
  const timezone = options.timezone ?? "UTC";
  const tty = process.stderr.isTTY === true;
  const { SingleBar, Presets } = await import("cli-progress");
  const bar = tty
    ? new SingleBar(
        {
          format: "{bar} {value}/{total} | {rate} msg/s | {left} left | {state}",
          stream: process.stderr,
        },
        Presets.shades_classic,
      )
    : undefined;
  let lastLine = 0;
  let started = false;
  let warnedIdleAt = 0;
  let saidScheduled = false;
  for (;;) {
    const s = await loadSendStatus(database, sendId, options);
    if (s.status === "scheduled") {
      if (!saidScheduled && s.needsApproval) process.stderr.write(`${statusText(s, timezone)}\n`);
      else if (!saidScheduled && s.scheduledAt)
        process.stderr.write(`scheduled for ${describeTime(new Date(s.scheduledAt), timezone)}; waiting\n`);
      saidScheduled = true;
      await new Promise((r) => setTimeout(r, 2000));
      continue;
    }
    const handled = s.total - s.queued - s.sending - s.deferred;
    const left = s.secondsLeft === null ? "?" : duration(s.secondsLeft);
    const idle = idleWarning(s);
    if (idle && Date.now() - warnedIdleAt > 30_000) {
      if (bar && started) process.stderr.write("\n");
      process.stderr.write(`${idle}\n`);
      warnedIdleAt = Date.now();
    }
    if (bar) {
      if (!started) bar.start(s.total, handled, { rate: s.rate, state: s.status, left });
      bar.setTotal(s.total);
      bar.update(handled, { rate: s.rate, state: s.status, left });
      started = true;
    } else if (Date.now() - lastLine > 2000) {
      const line =
        `${s.status}: sent ${n(s.sent)} of ${n(s.total)}, ${n(s.deferred)} deferred, ` +
        `failed ${n(s.failed)}, ${s.rate} msg/s, time left ${left}` +
        `${s.rateLimit?.reason ? ` (${rateLimitText(s.rateLimit)})` : ""}` +
        `${s.reasons[0] ? `; ${s.reasons[0].status} ${s.reasons[0].count}: ${s.reasons[0].reason}` : ""}`;
      process.stderr.write(`${visibleText(line)}\n`);
      lastLine = Date.now();
    }
    if (s.status === "done" || s.status === "cancelled") {
      bar?.stop();
      process.stderr.write(`${statusText(s, timezone)}\n`);
      return s.status === "done" ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
