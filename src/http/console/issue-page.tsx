/** @jsxImportSource hono/jsx */
import type { AuditEntry, Issue } from "../../db/schema.js";
import { renditionHash } from "../../issues/approval.js";
import { gmailClipBytes } from "../../issues/lint.js";
import type { Problem } from "../../issues/markdown.js";
import type { Session } from "../../staff/sessions.js";
import { ProblemList } from "./editor.js";
import { Action, AuditTable, Badge, Csrf, Notice, Page, TypeBack } from "./layout.js";
import type { SendSummary } from "./queries.js";
import { dateToLocal, showTime } from "./time.js";

export interface IssuePageProps {
  session: Session;
  issue: Issue;
  problems: Problem[];
  htmlBytes: number;
  plainText: string;
  activeReaders: number;
  from: string;
  timeZone: string;
  sends: SendSummary[];
  audit: AuditEntry[];
  testAddresses: string;
  notice?: string;
  sendError?: string;
  testError?: string;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function SizeMeter({ bytes }: { bytes: number }) {
  const share = Math.min(100, (bytes / gmailClipBytes) * 100);
  const over = bytes > gmailClipBytes;
  return (
    <div>
      <p>
        HTML is <strong>{kb(bytes)}</strong> of Gmail's 102 KB clip limit
        {over ? " — Gmail will clip it, hiding the footer and unsubscribe link." : "."}
      </p>
      <div class="bar" role="img" aria-label={`${share.toFixed(0)}% of the clip limit`}>
        <span class={over ? "fail" : undefined} style={`width:${share.toFixed(1)}%`} />
      </div>
    </div>
  );
}

function ScheduledSend(props: { session: Session; send: SendSummary; timeZone: string }) {
  const { session, send, timeZone } = props;
  return (
    <div class="actions">
      <form method="post" action={`/admin/sends/${send.id}/move`} class="row">
        <Csrf session={session} />
        <div class="field">
          <label for={`move-${send.id}`}>Move to ({timeZone})</label>
          <input
            id={`move-${send.id}`}
            name="at"
            type="datetime-local"
            value={dateToLocal(send.scheduled_at, timeZone)}
            required
          />
        </div>
        <button type="submit" class="secondary">
          Move
        </button>
      </form>
      <Action session={session} action={`/admin/sends/${send.id}/cancel`} label="Cancel" kind="danger" />
    </div>
  );
}

export function IssuePage(p: IssuePageProps) {
  const { session, issue, timeZone } = p;
  const isAdmin = session.account.role === "admin";
  const errors = p.problems.filter((x) => x.severity === "error");
  const published =
    issue.publishedAt !== null ||
    p.sends.some((s) => !s.is_test && s.status !== "scheduled" && s.status !== "cancelled");
  const realSends = p.sends.filter((s) => !s.is_test && s.status !== "cancelled");
  const waiting = p.sends.filter((s) => s.needs_approval);
  return (
    <Page title={issue.subject} session={session} section="issues">
      <p class="muted small">
        <a href="/admin/issues">Issues</a> › Vol {issue.volume}
      </p>
      <h1>
        {issue.subject}{" "}
        <Badge
          status={
            published ? "published" : realSends.some((s) => s.status === "scheduled") ? "scheduled" : "draft"
          }
        />
      </h1>
      {p.notice && <Notice kind="ok">{p.notice}</Notice>}
      {waiting.length > 0 && (
        <Notice kind="bad">
          This issue changed after {waiting.length === 1 ? "a send was" : "sends were"} approved:{" "}
          {waiting.map((s) => (
            <a href={`/admin/sends/${s.id}`}>the send for {showTime(s.scheduled_at, timeZone)} </a>
          ))}
          waits for an admin and will not start until the new text is approved.
        </Notice>
      )}
      <div class="actions" style="margin-bottom:16px">
        <a class="button secondary" href={`/admin/issues/new?from=${issue.id}`}>
          Edit a copy of the Markdown
        </a>
        <a
          class="button secondary"
          href={`/admin/issues/${issue.id}/preview.html`}
          target="_blank"
          rel="noopener"
        >
          Open preview.html
        </a>
        <a class="button secondary" href={`/admin/issues/${issue.id}/issue.pdf`}>
          Download PDF
        </a>
      </div>
      <div class="cols">
        <div class="stack">
          <div class="card">
            <h2>Preview</h2>
            <div class="previews">
              <figure style="margin:0">
                <figcaption class="muted small">Desktop, 600 px</figcaption>
                <iframe
                  class="frame frame-wide"
                  title="Preview at 600 px"
                  src={`/admin/issues/${issue.id}/preview.html`}
                />
              </figure>
              <figure style="margin:0">
                <figcaption class="muted small">Phone, 375 px</figcaption>
                <iframe
                  class="frame frame-phone"
                  title="Preview at 375 px"
                  src={`/admin/issues/${issue.id}/preview.html`}
                />
              </figure>
            </div>
          </div>
          <div class="card">
            <h2>Plain text</h2>
            {/* Focusable: a box that scrolls must be reachable by keyboard to be scrolled without a mouse. */}
            <pre class="plain" tabindex={0}>
              {p.plainText}
            </pre>
          </div>
        </div>
        <div class="stack">
          <div class="card">
            <h2>Checks</h2>
            <SizeMeter bytes={p.htmlBytes} />
            <h2 style="margin-top:16px">Lint</h2>
            <ProblemList problems={p.problems} />
          </div>
          <div class="card">
            <h2>Test send</h2>
            {p.testError && <Notice kind="bad">{p.testError}</Notice>}
            <form method="post" action={`/admin/issues/${issue.id}/test`}>
              <Csrf session={session} />
              <div class="field">
                <label for="to">
                  To <span class="hint">(staff addresses, comma-separated; remembered)</span>
                </label>
                <input id="to" name="to" type="text" value={p.testAddresses} required />
              </div>
              <button type="submit" class="secondary">
                Send a test
              </button>
            </form>
          </div>
          <div class="card" id="send">
            <h2>Send to readers</h2>
            {!isAdmin ? (
              <p class="muted">Only an admin can send to readers. Ask one once the test looks right.</p>
            ) : errors.length > 0 ? (
              <Notice kind="bad">Fix the lint errors before sending.</Notice>
            ) : (
              <form method="post" action={`/admin/issues/${issue.id}/send`}>
                <Csrf session={session} />
                <input type="hidden" name="rendition" value={renditionHash(issue)} />
                {p.sendError && <Notice kind="bad">{p.sendError}</Notice>}
                <dl class="stats" style="margin-bottom:12px">
                  <div>
                    <dt>Active readers</dt>
                    <dd id="active-readers">{p.activeReaders}</dd>
                  </div>
                </dl>
                <p class="small">
                  <strong>Subject:</strong> {issue.subject}
                  <br />
                  <strong>From:</strong> {p.from}
                  <br />
                  <strong>Now:</strong> {showTime(new Date(), timeZone)}
                </p>
                <TypeBack id="confirm" figure={p.activeReaders}>
                  Type the number of active readers to confirm
                </TypeBack>
                <div class="field">
                  <label for="at">
                    Schedule for <span class="hint">(optional, {timeZone}; empty sends now)</span>
                  </label>
                  <input id="at" name="at" type="datetime-local" />
                </div>
                {realSends.length > 0 && (
                  <div class="field">
                    <label>
                      <input type="checkbox" name="again" value="yes" /> Send again{" "}
                      <span class="hint">(this issue already has a send)</span>
                    </label>
                  </div>
                )}
                <button type="submit">Send to readers</button>
              </form>
            )}
          </div>
          <div class="card">
            <h2>Sends of this issue</h2>
            {p.sends.length === 0 ? (
              <p class="muted">None yet.</p>
            ) : (
              <ul class="problems" style="list-style:none;padding:0">
                {p.sends.map((s) => (
                  <li style="margin-bottom:10px">
                    <a href={`/admin/sends/${s.id}`}>{s.is_test ? "Test send" : "Send"}</a>{" "}
                    <Badge status={s.status} />{" "}
                    {s.needs_approval && <strong class="small">waits for an admin </strong>}
                    <span class="muted small">
                      {s.status === "scheduled"
                        ? `for ${showTime(s.scheduled_at, timeZone)}`
                        : `${s.done}/${s.total}`}
                    </span>
                    {s.status === "scheduled" && isAdmin && (
                      <ScheduledSend session={session} send={s} timeZone={timeZone} />
                    )}
                  </li>
                ))}
              </ul>
            )}
          </div>
          <div class="card">
            <h2>Audit</h2>
            <AuditTable entries={p.audit} timeZone={timeZone} />
          </div>
        </div>
      </div>
    </Page>
  );
}
