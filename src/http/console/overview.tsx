/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import { subscriberStatuses } from "../../db/schema.js";
import { sendsAwaitingApproval } from "../../sending/approval.js";
import { recentAudit } from "../../staff/audit.js";
import type { ConsoleDeps, ConsoleEnv } from "./deps.js";
import { timezoneOf } from "./deps.js";
import { adminOnly } from "./guard.js";
import { AuditTable, Badge, Notice, Page } from "./layout.js";
import { growthByWeek, issueSummaries, recentBounces, recentSends, subscriberCounts } from "./queries.js";
import { BounceTable } from "./sends.js";
import { showTime } from "./time.js";

/** The overview (everyone), recent bounces and the audit log (admins). */
export function overviewRoutes(deps: ConsoleDeps) {
  const app = new Hono<ConsoleEnv>();
  const tz = timezoneOf(deps);

  app.get("/", async (c) => {
    const session = c.get("session");
    const [issues, sends, counts, growth, waiting] = await Promise.all([
      issueSummaries(deps.db, 200),
      recentSends(deps.db, undefined, 8),
      subscriberCounts(deps.db),
      growthByWeek(deps.db, 8),
      sendsAwaitingApproval(deps.db),
    ]);
    const byState = (state: string) => issues.filter((i) => i.state === state);
    return c.html(
      <Page title="Overview" session={session} section="overview">
        <div class="actions" style="justify-content:space-between;margin-bottom:16px">
          <h1 style="margin:0">Overview</h1>
          <a class="button" href="/admin/issues/new">
            New issue
          </a>
        </div>
        {waiting.length > 0 && (
          <Notice kind="bad">
            <strong>
              {waiting.length === 1 ? "A scheduled send waits" : `${waiting.length} scheduled sends wait`} for
              an admin:
            </strong>{" "}
            the issue changed after the send was approved, and it will not start until an admin approves the
            new text.
            <ul class="problems">
              {waiting.map((w) => (
                <li>
                  <a href={`/admin/sends/${w.sendId}`}>
                    Vol {w.volume}: {w.subject}
                  </a>{" "}
                  <span class="small">(scheduled for {showTime(w.scheduledAt, tz)})</span>
                </li>
              ))}
            </ul>
          </Notice>
        )}
        {session.account.role === "admin" && (
          <div class="card" style="margin-bottom:16px" id="doctor">
            <h2>Will mail be accepted?</h2>
            <p>
              SPF, DKIM, DMARC and MX of your domains, the relay and PUBLIC_URL, each with the record or
              setting to fix (what <code>digest doctor</code> prints).
            </p>
            <a class="button" href="/admin/doctor">
              Run the checks
            </a>
          </div>
        )}
        <div class="grid">
          {(["draft", "scheduled", "published"] as const).map((state) => (
            <div class="card">
              <h2>
                {state === "draft" ? "Drafts" : state === "scheduled" ? "Scheduled" : "Published"}{" "}
                <span class="muted">({byState(state).length})</span>
              </h2>
              {byState(state).length === 0 ? (
                <p class="muted">None.</p>
              ) : (
                <ul class="problems">
                  {byState(state)
                    .slice(0, 5)
                    .map((i) => (
                      <li>
                        <a href={`/admin/issues/${i.id}`}>
                          Vol {i.volume}: {i.subject}
                        </a>
                      </li>
                    ))}
                </ul>
              )}
            </div>
          ))}
        </div>
        <div class="card" style="margin-top:16px">
          <h2>Readers by status</h2>
          <dl class="stats">
            {subscriberStatuses.map((s) => (
              <div>
                <dt>{s}</dt>
                <dd>{counts[s] ?? 0}</dd>
              </div>
            ))}
          </dl>
        </div>
        <div class="cols">
          <div class="card">
            <h2>Recent sends</h2>
            {sends.length === 0 ? (
              <p class="muted">No sends yet.</p>
            ) : (
              <div class="scroll">
                <table>
                  <thead>
                    <tr>
                      <th>Issue</th>
                      <th>Status</th>
                      <th>Progress</th>
                      <th class="hide-narrow">When</th>
                    </tr>
                  </thead>
                  <tbody>
                    {sends.map((s) => (
                      <tr>
                        <td>
                          <a href={`/admin/sends/${s.id}`}>{s.slug}</a>
                          {s.is_test && <span class="muted small"> (test)</span>}
                        </td>
                        <td>
                          <Badge status={s.status} />
                        </td>
                        <td style="min-width:120px">
                          <div class="bar" title={`${s.done} of ${s.total}`}>
                            <span style={`width:${s.total ? (s.done / s.total) * 100 : 0}%`} />
                            <span class="fail" style={`width:${s.total ? (s.failed / s.total) * 100 : 0}%`} />
                          </div>
                          <span class="small muted">
                            {s.done}/{s.total}
                          </span>
                        </td>
                        <td class="hide-narrow small">{showTime(s.scheduled_at, tz)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
          <div class="card">
            <h2>List growth per week</h2>
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Week of</th>
                    <th class="num">Joined</th>
                    <th class="num">Left</th>
                  </tr>
                </thead>
                <tbody>
                  {growth.map((w) => (
                    <tr>
                      <td>{w.week}</td>
                      <td class="num">+{w.joined}</td>
                      <td class="num">−{w.left}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </div>
      </Page>,
    );
  });

  app.get("/bounces", adminOnly, async (c) =>
    c.html(
      <Page title="Bounces" session={c.get("session")} section="bounces">
        <h1>Bounces and complaints</h1>
        <div class="card">
          <BounceTable bounces={await recentBounces(deps.db, undefined, 100)} readers timeZone={tz} />
        </div>
      </Page>,
    ),
  );

  app.get("/audit", adminOnly, async (c) =>
    c.html(
      <Page title="Audit log" session={c.get("session")} section="audit">
        <h1>Audit log</h1>
        <p class="muted">
          Every staff action, newest first (the latest 200). Stored in the <code>audit_log</code> table.
        </p>
        <div class="card">
          <AuditTable entries={await recentAudit(deps.db, undefined, 200)} timeZone={tz} />
        </div>
      </Page>,
    ),
  );

  return app;
}
