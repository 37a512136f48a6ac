/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import type { CheckStatus, DoctorReport } from "../../doctor/check.js";
import type { ConsoleDeps, ConsoleEnv } from "./deps.js";
import { adminOnly } from "./guard.js";
import { Notice, Page } from "./layout.js";

const badge: Record<CheckStatus, string> = {
  ok: "badge b-sent",
  warn: "badge b-paused",
  fail: "badge b-failed",
};

/** The headline of a failing report: how many checks failed, in words that agree with the number. */
function problems(report: DoctorReport): string {
  const n = report.checks.filter((check) => check.status === "fail").length;
  return `${n} ${n === 1 ? "problem" : "problems"} to fix before mail will be accepted.`;
}

/**
 * `/admin/doctor` (admins): the `digest doctor` checklist for this install. It asks DNS, the relay
 * and PUBLIC_URL, which takes seconds, so it runs when an admin opens this page (the overview only
 * links here) and never on an overview render.
 */
export function doctorRoutes(deps: ConsoleDeps) {
  const app = new Hono<ConsoleEnv>();
  app.use("*", adminOnly);
  app.get("/", async (c) => {
    let report: DoctorReport | undefined;
    let problem: string | undefined;
    if (!deps.doctor)
      problem = "the checks are not wired into this server; run `digest doctor` on it instead";
    else
      try {
        report = await deps.doctor();
      } catch (error) {
        // A setting the doctor cannot read (DNS_SERVERS, the newsletter file...) is the finding.
        problem = (error as Error).message;
      }
    return c.html(
      <Page title="Will mail be accepted?" session={c.get("session")} section="overview">
        <h1>Will mail be accepted?</h1>
        <p class="muted">
          The checks of <code>digest doctor</code>, run now: DNS records of the From domain and MAIL_DOMAIN,
          the relay of SMTP_URL, and PUBLIC_URL. <a href="/admin/doctor">Run again</a>
        </p>
        {problem && <Notice kind="bad">The checks could not run: {problem}</Notice>}
        {report && (
          <>
            <Notice kind={report.ok ? "ok" : "bad"}>
              {report.ok ? "Mail should be accepted." : problems(report)}
            </Notice>
            <div class="card">
              <div class="scroll">
                <table class="stack-narrow">
                  <thead>
                    <tr>
                      <th>Check</th>
                      <th>Status</th>
                      <th>What was found, and what to publish or change</th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.checks.map((check) => (
                      <tr data-check={check.id}>
                        <td>
                          <code>{check.id}</code>
                        </td>
                        <td>
                          <span class={badge[check.status]}>{check.status}</span>
                        </td>
                        <td>
                          {check.message}
                          {check.fix && <pre class="plain">{check.fix}</pre>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          </>
        )}
      </Page>,
    );
  });
  return app;
}
