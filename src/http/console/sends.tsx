/** @jsxImportSource hono/jsx */
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { raw } from "hono/html";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import { type Db, query } from "../../db/database.js";
import { deliveryStatuses } from "../../db/schema.js";
import { DigestError } from "../../errors.js";
import { isUuid } from "../../ids.js";
import { type ApprovedRendition, renditionHash } from "../../issues/approval.js";
import { findIssue } from "../../issues/store.js";
import { approveSend, pendingApproval } from "../../sending/approval.js";
import { BreakerPausedError, type ControlAction, controlSend } from "../../sending/control.js";
import { forEditors, type ReportForEditors, type SendProgressForEditors } from "../../sending/editor-view.js";
import { startSend } from "../../sending/plan.js";
import type { Reason } from "../../sending/status.js";
import { recentAudit, recordAudit } from "../../staff/audit.js";
import type { Session } from "../../staff/sessions.js";
import type { ConsoleDeps, ConsoleEnv } from "./deps.js";
import { actorOf, sendingOf, timezoneOf } from "./deps.js";
import { fieldText, formOf } from "./form.js";
import { adminOnly } from "./guard.js";
import { Action, AuditTable, Badge, Csrf, Page, TypeBack } from "./layout.js";
import { activeReaderCount, type BounceView, recentBounces, sendStatusJson } from "./queries.js";
import { ReadershipCard, type ReadershipView, readershipView } from "./readership.js";
import { localToDate, showTime } from "./time.js";

const finished = (status: string) => status === "done" || status === "cancelled";

/** The numbers the page shows, read from the status JSON. */
function progressView(s: SendProgressForEditors) {
  const left = s.secondsLeft;
  const handled = s.sent + s.skipped + s.failed + s.bounced;
  return {
    total: s.total,
    done: s.sent + s.skipped,
    bad: s.failed + s.bounced,
    share: s.total > 0 ? (handled / s.total) * 100 : finished(s.status) ? 100 : 0,
    rate: s.rate,
    rateLimit: rateLimitLine(s.rateLimit),
    left: left === null || left === undefined ? "—" : left === 0 ? "0 s" : `${left} s`,
  };
}

/** The shared rate when the relay's throttling lowered it below SEND_RATE, else empty. */
function rateLimitLine(r: SendProgressForEditors["rateLimit"]): string {
  if (!r || r.reason === null) return "";
  return r.inForce === null
    ? `Rate: ${r.reason}`
    : `Rate lowered to ${r.inForce} /s of ${r.configured} /s: ${r.reason}`;
}

/** When a send waiting for approval starts: a passed time means at once, once approved. */
function scheduleLine(at: string | null, timeZone: string): string {
  if (!at) return "It starts when approved.";
  const when = new Date(at);
  return when.getTime() <= Date.now()
    ? `It was scheduled for ${showTime(when, timeZone)}, which has passed: it starts as soon as it is approved.`
    : `It is scheduled for ${showTime(when, timeZone)}: approved by then, it starts then; approved later, at once.`;
}

const counted = [...deliveryStatuses, "ambiguous"] as const;

/** A reason row as the viewer may see it: editors get no example (sending/editor-view.ts). */
type ReasonView = Omit<Reason, "example"> & { example?: string };

/** Admins see whose mail bounced and the server's words; editors see counts and reasons only. */
const seesReaders = (session: Session) => session.account.role === "admin";

/** The send's status JSON as this viewer may read it: the page, its fragment and its stream agree. */
async function statusFor(deps: ConsoleDeps, session: Session, id: string) {
  const status = await sendStatusJson(deps, id);
  return seesReaders(session) ? status : forEditors(status);
}

function Live({
  reasons,
  bounces,
  readers,
  timeZone,
}: {
  reasons: ReasonView[];
  bounces: BounceView[];
  readers: boolean;
  timeZone: string;
}) {
  return (
    <div id="live" class="stack">
      <div class="card">
        <h2>Why deliveries are deferred or failed</h2>
        {reasons.length === 0 ? (
          <p class="muted">No deferred or failed deliveries.</p>
        ) : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>Status</th>
                  <th>Reason</th>
                  <th class="num">Count</th>
                  {readers && <th>Example</th>}
                </tr>
              </thead>
              <tbody>
                {reasons.map((r) => (
                  <tr>
                    <td>
                      <Badge status={r.status} />
                    </td>
                    <td class="small">{r.reason}</td>
                    <td class="num">{r.count}</td>
                    {readers && <td class="small">{r.example}</td>}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div class="card">
        <h2>Bounces and complaints</h2>
        <BounceTable bounces={bounces} readers={readers} timeZone={timeZone} />
      </div>
    </div>
  );
}

/**
 * Recent bounces and complaints. Without `readers` (an editor's view) there is no address column
 * and no diagnostic: a remote server's words often quote the address.
 */
export function BounceTable({
  bounces,
  readers,
  timeZone,
}: {
  bounces: BounceView[];
  readers: boolean;
  timeZone: string;
}) {
  if (bounces.length === 0) return <p class="muted">None so far.</p>;
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th>When</th>
            {readers && <th>Reader</th>}
            <th>Type</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {bounces.map((b) => (
            <tr>
              <td class="small nowrap">{showTime(b.created_at, timeZone)}</td>
              {readers && <td>{b.email ?? "(erased)"}</td>}
              <td>
                <Badge status={b.type} />{" "}
                {b.feedback_type && <span class="small muted">{b.feedback_type}</span>}
              </td>
              <td class="small">
                {[b.status, b.reason, readers ? b.diagnostic : null].filter(Boolean).join(" · ") || "—"}
                <span class="muted"> ({b.source})</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// Progressive enhancement: the bar and counts follow the event stream; the bounce and reason
// tables are fetched again when a count changes. Without JavaScript the page refreshes itself.
const liveScript = (id: string) => `
(() => {
  const source = new EventSource("/admin/sends/${id}/events");
  let last = "";
  source.onmessage = async (event) => {
    const s = JSON.parse(event.data);
    const handled = s.sent + s.skipped + s.failed + s.bounced;
    const share = s.total > 0 ? (handled / s.total) * 100 : (s.status === "done" || s.status === "cancelled") ? 100 : 0;
    document.getElementById("bar-done").style.width = (s.total ? ((s.sent + s.skipped) / s.total) * 100 : share) + "%";
    document.getElementById("bar-bad").style.width = (s.total ? ((s.failed + s.bounced) / s.total) * 100 : 0) + "%";
    document.getElementById("share").textContent = Math.round(share) + "%";
    for (const key of ${JSON.stringify(counted)}) {
      const el = document.querySelector('[data-count="' + key + '"]');
      if (el) el.textContent = s[key];
    }
    if (!document.getElementById("rate")) return;
    document.getElementById("rate").textContent = s.rate + " /s";
    const limit = s.rateLimit;
    document.getElementById("rate-limit").textContent = !limit || limit.reason === null ? ""
      : limit.inForce === null ? "Rate: " + limit.reason
      : "Rate lowered to " + limit.inForce + " /s of " + limit.configured + " /s: " + limit.reason;
    const left = s.secondsLeft !== undefined ? s.secondsLeft : s.etaSeconds;
    document.getElementById("left").textContent = left === null ? "—" : left + " s";
    const status = document.getElementById("status");
    status.textContent = s.status;
    status.className = "badge b-" + s.status;
    const key = [s.deferred, s.failed, s.bounced, s.status].join("/");
    if (key !== last) {
      last = key;
      const res = await fetch("/admin/sends/${id}/live");
      if (res.ok) document.getElementById("live").outerHTML = await res.text();
    }
    if (s.status === "done" || s.status === "cancelled") {
      source.close();
      // The finished page has the final report and only the actions that still apply.
      location.reload();
    }
  };
})();
`;

/** The per-send report of a finished send: the same object `digest status --json` carries. */
function ReportCard({ report: r }: { report: ReportForEditors }) {
  const sum = (xs: { count: number }[]) => xs.reduce((t, x) => t + x.count, 0);
  return (
    <div class="card">
      <h2>Report</h2>
      <dl class="stats">
        <div>
          <dt>sent</dt>
          <dd>{r.sent}</dd>
        </div>
        <div>
          <dt>bounced</dt>
          <dd>{sum(r.bounced)}</dd>
        </div>
        <div>
          <dt>complaints</dt>
          <dd>{sum(r.complaints)}</dd>
        </div>
        <div>
          <dt>unsubscribes</dt>
          <dd>{r.unsubscribes}</dd>
        </div>
        <div>
          <dt>failed</dt>
          <dd>{sum(r.failed)}</dd>
        </div>
        <div>
          <dt>ambiguous</dt>
          <dd>{r.ambiguous}</dd>
        </div>
        <div>
          <dt>duration</dt>
          <dd>{r.durationSeconds === null ? "—" : `${r.durationSeconds} s`}</dd>
        </div>
      </dl>
      {r.sources.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Came from</th>
              <th>Type</th>
              <th>Reason</th>
              <th>Count</th>
            </tr>
          </thead>
          <tbody>
            {r.sources.map((b) => (
              <tr>
                <td>{b.label}</td>
                <td>{b.type}</td>
                <td>{b.reason ?? "—"}</td>
                <td>{b.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function SendPage(props: {
  session: Session;
  status: SendProgressForEditors;
  issueId: string;
  reasons: ReasonView[];
  bounces: BounceView[];
  audit: Awaited<ReturnType<typeof recentAudit>>;
  timeZone: string;
  /** For a send waiting for approval: what the approve form shows and carries. */
  approval?: { activeReaders: number; rendition: string };
  approveError?: string;
  /** Only for a send that carried tracked links or a pixel, or has events. */
  readership?: ReadershipView;
}) {
  const { session, status: s } = props;
  const view = progressView(s);
  const isAdmin = session.account.role === "admin";
  const act = (a: ControlAction, label: string, kind?: "secondary" | "danger") => (
    <Action session={session} action={`/admin/sends/${s.sendId}/${a}`} label={label} kind={kind} />
  );
  return (
    <Page title={`Send of ${s.issue}`} session={session} section="issues">
      {!finished(s.status) && (
        <noscript>
          <meta http-equiv="refresh" content="5" />
        </noscript>
      )}
      <p class="muted small">
        <a href="/admin/issues">Issues</a> › <a href={`/admin/issues/${props.issueId}`}>{s.issue}</a>
      </p>
      <h1>
        {s.test ? "Test send" : "Send"} of {s.issue}{" "}
        <span id="status" class={`badge b-${s.status}`}>
          {s.status}
        </span>
      </h1>
      {s.needsApproval ? (
        <div class="notice bad" role="alert">
          <p>
            <strong>Waits for an admin:</strong> {s.pausedReason}
          </p>
          <p class="small">
            Read the new text on the <a href={`/admin/issues/${props.issueId}`}>issue page</a>.{" "}
            {scheduleLine(s.scheduledAt, props.timeZone)}
          </p>
          {isAdmin && props.approval && (
            <form method="post" action={`/admin/sends/${s.sendId}/approve`}>
              <Csrf session={session} />
              <input type="hidden" name="rendition" value={props.approval.rendition} />
              {props.approveError && (
                <p class="small">
                  <strong>{props.approveError}</strong>
                </p>
              )}
              <TypeBack id="confirm" figure={props.approval.activeReaders}>
                Type the number of active readers to approve the new text
              </TypeBack>
              <button type="submit">Approve the new text</button>
            </form>
          )}
        </div>
      ) : (
        s.pausedReason && (
          // A breaker's pause is the admin's call to make; a hand pause only needs saying.
          <div class={`notice ${s.guardrails.breaker ? "bad" : "warn"}`} role="alert">
            <p>
              <strong>Paused:</strong> {s.pausedReason}
            </p>
            {isAdmin && s.status === "paused" && s.guardrails.breaker && (
              <form method="post" action={`/admin/sends/${s.sendId}/resume`}>
                <Csrf session={session} />
                <TypeBack
                  id="force-confirm"
                  figure={
                    s.guardrails.breaker === "complaints" ? s.guardrails.complaints : s.guardrails.hardBounces
                  }
                >
                  A circuit breaker paused this send. To resume it anyway, type the number of{" "}
                  {s.guardrails.breaker === "complaints" ? "complaints" : "hard bounces"}
                </TypeBack>
                <button type="submit" class="danger">
                  Resume anyway
                </button>
              </form>
            )}
          </div>
        )
      )}
      {s.guardrails.warning && (
        <p class="notice warn" id="guardrail-warning">
          <strong>Warning:</strong> {s.guardrails.warning}
        </p>
      )}
      <div class="card">
        <div class="actions" style="justify-content:space-between;margin-bottom:8px">
          <strong id="share">{Math.round(view.share)}%</strong>
          {finished(s.status) ? (
            <span class="muted small">finished</span>
          ) : (
            <span class="muted small">
              rate <span id="rate">{view.rate} /s</span> · time left <span id="left">{view.left}</span>
            </span>
          )}
        </div>
        {!finished(s.status) && (
          <p class="small muted" id="rate-limit">
            {view.rateLimit}
          </p>
        )}
        <div
          class="bar"
          role="progressbar"
          aria-label="Deliveries finished"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(view.share)}
        >
          <span id="bar-done" style={`width:${view.total ? (view.done / view.total) * 100 : view.share}%`} />
          <span
            id="bar-bad"
            class="fail"
            style={`width:${view.total ? (view.bad / view.total) * 100 : 0}%`}
          />
        </div>
        <dl class="stats" style="margin-top:16px">
          {counted.map((key) => (
            <div>
              <dt>{key}</dt>
              <dd data-count={key}>{s[key]}</dd>
            </div>
          ))}
        </dl>
        {isAdmin && (
          <div class="actions" style="margin-top:16px">
            {s.status === "running" && act("pause", "Pause", "secondary")}
            {s.status === "paused" && !s.guardrails.breaker && act("resume", "Resume")}
            {!finished(s.status) && act("cancel", "Cancel", "danger")}
            {s.status !== "scheduled" &&
              s.status !== "cancelled" &&
              s.failed + s.deferred > 0 &&
              act("retry", "Retry failed and deferred", "secondary")}
          </div>
        )}
      </div>
      {finished(s.status) && <div id="finished" data-status={s.status} hidden />}
      {s.report && <ReportCard report={s.report} />}
      {props.readership && <ReadershipCard view={props.readership} sendId={s.sendId} />}
      <Live
        reasons={props.reasons}
        bounces={props.bounces}
        readers={seesReaders(session)}
        timeZone={props.timeZone}
      />
      <div class="card">
        <h2>Audit</h2>
        <AuditTable entries={props.audit} timeZone={props.timeZone} />
      </div>
      {!finished(s.status) && <script>{raw(liveScript(s.sendId))}</script>}
    </Page>
  );
}

async function issueOfSend(
  db: Db,
  sendId: string,
): Promise<{ issue_id: string; status: string; is_test: boolean }> {
  const [row] = await query<{ issue_id: string; status: string; is_test: boolean }>(
    db,
    sql`select issue_id, status, is_test from sends where id = ${sendId}`,
  );
  if (!row) throw new HTTPException(404, { message: "no such send" });
  return row;
}

/** The text a send was approved with (its issue's, for a send made before sends kept a copy). */
async function approvedCopy(db: Db, sendId: string): Promise<ApprovedRendition> {
  const [row] = await query<ApprovedRendition>(
    db,
    sql`select coalesce(s.subject, i.subject) as subject, coalesce(s.html, i.html) as html,
      coalesce(s.text, i.text) as text from sends s join issues i on i.id = s.issue_id where s.id = ${sendId}`,
  );
  if (!row) throw new HTTPException(404, { message: "no such send" });
  return row;
}

/** The send page, its event stream, and pause/resume/cancel/retry/move (admins). */
export function sendRoutes(deps: ConsoleDeps) {
  const app = new Hono<ConsoleEnv>();
  const tz = timezoneOf(deps);
  const idOf = (raw: string) => {
    if (!isUuid(raw)) throw new HTTPException(404, { message: "no such send" });
    return raw;
  };

  async function sendPage(session: Session, id: string, approveError?: string) {
    const send = await issueOfSend(deps.db, id);
    const status = await statusFor(deps, session, id);
    const issue = status.needsApproval ? await findIssue(deps.db, send.issue_id) : undefined;
    const approval = issue
      ? { activeReaders: await activeReaderCount(deps), rendition: renditionHash(issue) }
      : undefined;
    const trackingOn = deps.tracking !== undefined && (deps.tracking.clicks || deps.tracking.opens);
    const readership = await readershipView(deps.db, id, trackingOn);
    return (
      <SendPage
        session={session}
        status={status}
        issueId={send.issue_id}
        reasons={status.reasons}
        bounces={await recentBounces(deps.db, id, 20)}
        audit={await recentAudit(deps.db, [id], 20)}
        timeZone={tz}
        {...(approval ? { approval } : {})}
        {...(approveError ? { approveError } : {})}
        {...(readership ? { readership } : {})}
      />
    );
  }

  app.get("/:id", async (c) => c.html(await sendPage(c.get("session"), idOf(c.req.param("id")))));

  // A send whose issue changed after approval: the admin approves the new text with the count again.
  app.post("/:id/approve", adminOnly, async (c) => {
    const session = c.get("session");
    const id = idOf(c.req.param("id"));
    const form = await formOf(c);
    const count = await activeReaderCount(deps);
    const confirm = fieldText(form.confirm).trim();
    const refuse = async (message: string) => c.html(await sendPage(session, id, message), 422);
    if (confirm !== String(count))
      return refuse(
        confirm === ""
          ? `Type the number of active readers (${count}) to approve. Nothing was approved.`
          : `${confirm.slice(0, 20)} is not the number of active readers (${count}). Nothing was approved.`,
      );
    const shown = fieldText(form.rendition);
    try {
      await approveSend(sendingOf(deps), actorOf(session), id, shown === "" ? undefined : shown);
    } catch (error) {
      if (error instanceof DigestError && error.kind === "conflict")
        return refuse(`${error.message}. Nothing was approved.`);
      throw error;
    }
    return c.redirect(`/admin/sends/${id}`, 303);
  });

  app.get("/:id/live", async (c) => {
    const id = idOf(c.req.param("id"));
    const session = c.get("session");
    return c.html(
      <Live
        reasons={(await statusFor(deps, session, id)).reasons}
        bounces={await recentBounces(deps.db, id, 20)}
        readers={seesReaders(session)}
        timeZone={tz}
      />,
    );
  });

  // Each event's data is the send's status JSON; the stream ends after done or cancelled.
  app.get("/:id/events", async (c) => {
    const id = idOf(c.req.param("id"));
    await issueOfSend(deps.db, id);
    const session = c.get("session");
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      while (open) {
        const status = await statusFor(deps, session, id);
        await stream.writeSSE({ data: JSON.stringify(status) });
        if (finished(status.status)) break;
        await stream.sleep(1000);
      }
    });
  });

  app.post("/:id/move", adminOnly, async (c) => {
    const id = idOf(c.req.param("id"));
    const send = await issueOfSend(deps.db, id);
    if (send.status !== "scheduled" || send.is_test)
      throw new DigestError("conflict", `only a scheduled send can be moved; this one is ${send.status}`);
    // Moving makes a new send; it must not approve, unseen, a text the issue took since.
    if (await pendingApproval(deps.db, id))
      throw new DigestError(
        "conflict",
        "this send waits for an admin to approve the changed issue: approve it first",
      );
    const at = localToDate(fieldText((await formOf(c)).at), tz);
    if (!at) throw new DigestError("invalid", "give the new date and time");
    if (at.getTime() < Date.now()) throw new DigestError("invalid", `${showTime(at, tz)} has passed`);
    await controlSend(sendingOf(deps), id, "cancel");
    const started = await startSend(sendingOf(deps), {
      issueId: send.issue_id,
      at,
      again: true,
      shown: renditionHash(await approvedCopy(deps.db, id)),
    });
    await recordAudit(deps.db, actorOf(c.get("session")), "send.move", started.sendId, {
      from: id,
      at: at.toISOString(),
    });
    return c.redirect(`/admin/issues/${send.issue_id}`, 303);
  });

  app.post("/:id/:action", adminOnly, async (c) => {
    const id = idOf(c.req.param("id"));
    const act = c.req.param("action");
    if (act !== "pause" && act !== "resume" && act !== "cancel" && act !== "retry")
      throw new HTTPException(404, { message: "no such action" });
    const result = await forcedIfConfirmed(sendingOf(deps), id, act, (await formOf(c)).confirm);
    await recordAudit(deps.db, actorOf(c.get("session")), `send.${act}`, id, {
      rows: result.rows,
      ...(result.forced ? { forced: true } : {}),
    });
    return c.redirect(`/admin/sends/${id}`, 303);
  });

  return app;
}

/**
 * A send a circuit breaker paused resumes (or retries) only when the admin typed back the number
 * of complaints or hard bounces the page showed: reading the figure is the point, a click is not.
 */
async function forcedIfConfirmed(
  deps: Parameters<typeof controlSend>[0],
  id: string,
  act: ControlAction,
  confirm: unknown,
): Promise<Awaited<ReturnType<typeof controlSend>> & { forced?: boolean }> {
  try {
    return await controlSend(deps, id, act);
  } catch (error) {
    if (!(error instanceof BreakerPausedError)) throw error;
    const what = error.breaker === "complaints" ? "complaints" : "hard bounces";
    if (typeof confirm !== "string" || confirm.trim() !== String(error.count))
      throw new DigestError(
        "invalid",
        `a circuit breaker paused this send: type the number of ${what} (${error.count}) to resume it anyway`,
      );
    return { ...(await controlSend(deps, id, act, { force: true })), forced: true };
  }
}
