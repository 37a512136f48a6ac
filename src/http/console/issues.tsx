/** @jsxImportSource hono/jsx */
import { desc } from "drizzle-orm";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Issue } from "../../db/schema.js";
import { issues } from "../../db/schema.js";
import { DigestError } from "../../errors.js";
import { isUuid } from "../../ids.js";
import { issuePdf } from "../../issues/edition.js";
import { checkIssue, lintRendition } from "../../issues/lint.js";
import { parseIssue } from "../../issues/parse.js";
import { personalize } from "../../issues/personalize.js";
import { findIssue, saveIssue } from "../../issues/store.js";
import { startSend } from "../../sending/plan.js";
import { rememberTestAddresses } from "../../staff/accounts.js";
import { recentAudit, recordAudit } from "../../staff/audit.js";
import type { Session } from "../../staff/sessions.js";
import type { ConsoleDeps, ConsoleEnv } from "./deps.js";
import { actorOf, sendingOf, timezoneOf } from "./deps.js";
import { EditorPage } from "./editor.js";
import { fieldText, formOf } from "./form.js";
import { adminOnly } from "./guard.js";
import { IssuePage, type IssuePageProps } from "./issue-page.js";
import { Badge, Page } from "./layout.js";
import { activeReaderCount, type IssueSummary, issueSummaries, recentSends } from "./queries.js";
import { localToDate, showTime } from "./time.js";

/** The rendition filled in for a sample reader, as the API's preview does. */
function sample(deps: ConsoleDeps, rendition: { html: string; text: string }, slug: string) {
  return personalize(rendition, {
    email: "reader@example.com",
    unsubscribeUrl: `${deps.publicUrl}/unsubscribe/sample`,
    manageUrl: `${deps.publicUrl}/manage/sample`,
    viewUrl: `${deps.publicUrl}/archive/${slug}`,
  });
}

function IssueList({
  session,
  rows,
  timeZone,
}: {
  session: Session;
  rows: IssueSummary[];
  timeZone: string;
}) {
  const groups: [string, IssueSummary[]][] = [
    ["Drafts", rows.filter((r) => r.state === "draft")],
    ["Scheduled", rows.filter((r) => r.state === "scheduled")],
    ["Published", rows.filter((r) => r.state === "published")],
  ];
  return (
    <Page title="Issues" session={session} section="issues">
      <div class="actions" style="justify-content:space-between;margin-bottom:16px">
        <h1 style="margin:0">Issues</h1>
        <a class="button" href="/admin/issues/new">
          New issue
        </a>
      </div>
      {groups.map(([label, list]) => (
        <div class="card">
          <h2>
            {label} <span class="muted">({list.length})</span>
          </h2>
          {list.length === 0 ? (
            <p class="muted">None.</p>
          ) : (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Vol</th>
                    <th>Subject</th>
                    <th class="hide-narrow">Date</th>
                    <th>State</th>
                    <th class="hide-narrow">Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((r) => (
                    <tr>
                      <td>{r.volume}</td>
                      <td>
                        <a href={`/admin/issues/${r.id}`}>{r.subject}</a>
                      </td>
                      <td class="hide-narrow">{r.issue_date}</td>
                      <td>
                        <Badge status={r.state} />
                      </td>
                      <td class="hide-narrow small">{showTime(r.updated_at, timeZone)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      ))}
    </Page>
  );
}

/** Drafts, previews, test sends (editors) and sends to readers (admins). */
export function issueRoutes(deps: ConsoleDeps) {
  const app = new Hono<ConsoleEnv>();
  const tz = timezoneOf(deps);

  const load = async (id: string): Promise<Issue> => {
    const issue = isUuid(id) ? await findIssue(deps.db, id) : undefined;
    if (!issue) throw new HTTPException(404, { message: "no such issue" });
    return issue;
  };

  const text = fieldText;

  async function issuePage(session: Session, issue: Issue, extra: Partial<IssuePageProps> = {}) {
    // The stored row holds the rendition saveIssue made: lint that rather than render again.
    const parsed = parseIssue(issue.source);
    const problems = parsed.issue ? [...parsed.problems, ...lintRendition(issue)] : parsed.problems;
    const [sends, activeReaders] = await Promise.all([
      recentSends(deps.db, issue.id, 20),
      activeReaderCount(deps),
    ]);
    return (
      <IssuePage
        session={session}
        issue={issue}
        problems={problems}
        htmlBytes={Buffer.byteLength(issue.html)}
        plainText={sample(deps, issue, issue.slug).text}
        activeReaders={activeReaders}
        from={deps.mailFrom ?? deps.newsletter.from}
        timeZone={tz}
        sends={sends}
        audit={await recentAudit(deps.db, [issue.id, ...sends.map((s) => s.id)], 20)}
        testAddresses={session.account.testAddresses ?? session.account.email}
        {...extra}
      />
    );
  }

  app.get("/", async (c) =>
    c.html(<IssueList session={c.get("session")} rows={await issueSummaries(deps.db)} timeZone={tz} />),
  );

  app.get("/new", async (c) => {
    const from = c.req.query("from");
    let markdown = "";
    if (from === "last") {
      const [last] = await deps.db.select().from(issues).orderBy(desc(issues.createdAt)).limit(1);
      markdown = last?.source ?? "";
    } else if (from) markdown = (await load(from)).source;
    return c.html(<EditorPage session={c.get("session")} markdown={markdown} />);
  });

  app.post("/", async (c) => {
    const session = c.get("session");
    const form = await formOf(c);
    const file = form.file;
    const markdown = file instanceof File && file.size > 0 ? await file.text() : text(form.markdown);
    if (markdown.trim() === "")
      return c.html(
        <EditorPage
          session={session}
          markdown=""
          error="The issue is empty: paste or upload its Markdown."
        />,
        422,
      );
    const checked = await checkIssue(markdown, deps.newsletter);
    if (!checked.issue || checked.problems.some((p) => p.severity === "error"))
      return c.html(<EditorPage session={session} markdown={markdown} problems={checked.problems} />, 422);
    let saved: Awaited<ReturnType<typeof saveIssue>>;
    try {
      saved = await saveIssue(deps.db, markdown, deps.newsletter, "issue", actorOf(session));
    } catch (error) {
      if (error instanceof DigestError && (error.kind === "invalid" || error.kind === "conflict"))
        return c.html(
          <EditorPage
            session={session}
            markdown={markdown}
            problems={checked.problems}
            error={error.message}
          />,
          422,
        );
      throw error;
    }
    await recordAudit(
      deps.db,
      actorOf(session),
      saved.created ? "issue.create" : "issue.update",
      saved.issue.id,
      {
        volume: saved.issue.volume,
        ...(saved.unapprovedSends.length > 0 ? { unapprovedSends: saved.unapprovedSends } : {}),
      },
    );
    return c.redirect(`/admin/issues/${saved.issue.id}`, 303);
  });

  // The editor's live preview: nothing is stored.
  app.post("/preview", async (c) => {
    const markdown = text((await formOf(c)).markdown);
    const checked = await checkIssue(markdown, deps.newsletter);
    const html =
      checked.rendition && checked.issue
        ? sample(deps, checked.rendition, checked.issue.slug).html
        : undefined;
    return c.json({
      html,
      problems: checked.problems,
      bytes: checked.rendition ? Buffer.byteLength(checked.rendition.html) : 0,
    });
  });

  app.get("/:id", async (c) => {
    const issue = await load(c.req.param("id"));
    const notice = c.req.query("sent") === "test" ? "Test send queued." : undefined;
    return c.html(await issuePage(c.get("session"), issue, notice ? { notice } : {}));
  });

  app.get("/:id/preview.html", async (c) => {
    const issue = await load(c.req.param("id"));
    // The console frames it; the sandbox keeps the email's markup from acting as the console.
    c.header(
      "Content-Security-Policy",
      "sandbox allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'self'",
    );
    c.header("X-Frame-Options", "SAMEORIGIN");
    return c.html(sample(deps, issue, issue.slug).html);
  });

  // The PDF edition as it will be published (drafts too: staff check it before sending).
  app.get("/:id/issue.pdf", async (c) => {
    const issue = await load(c.req.param("id"));
    const edition = await issuePdf(deps, issue.id);
    if (!edition) throw new HTTPException(404, { message: "no such issue" });
    c.header("Content-Type", "application/pdf");
    c.header("Cache-Control", "no-store");
    c.header("Content-Disposition", `attachment; filename="${edition.fileName}"`);
    return c.body(new Uint8Array(edition.pdf));
  });

  app.post("/:id/test", async (c) => {
    const session = c.get("session");
    const issue = await load(c.req.param("id"));
    const to = text((await formOf(c)).to);
    const addresses = [...new Set(to.split(/[\s,;]+/).filter((a) => a !== ""))];
    const refuse = async (message: string) =>
      c.html(await issuePage(session, issue, { testError: message, testAddresses: to.slice(0, 500) }), 422);
    if (addresses.length === 0) return refuse("Give at least one address.");
    if (addresses.length > 20) return refuse("At most 20 addresses for a test send.");
    let started: Awaited<ReturnType<typeof startSend>>;
    try {
      started = await startSend(sendingOf(deps), { issueId: issue.id, test: addresses });
    } catch (error) {
      if (error instanceof DigestError && error.kind === "invalid") return refuse(error.message);
      throw error;
    }
    await rememberTestAddresses(deps.db, session.account.id, addresses);
    await recordAudit(deps.db, actorOf(session), "issue.test-send", issue.id, {
      to: addresses,
      send: started.sendId,
    });
    return c.redirect(`/admin/sends/${started.sendId}`, 303);
  });

  app.post("/:id/send", adminOnly, async (c) => {
    const session = c.get("session");
    const issue = await load(c.req.param("id"));
    const form = await formOf(c);
    const refuse = async (message: string) =>
      c.html(await issuePage(session, issue, { sendError: message }), 422);
    const count = await activeReaderCount(deps);
    const confirm = text(form.confirm).trim();
    if (confirm !== String(count))
      return refuse(
        confirm === ""
          ? `Type the number of active readers (${count}) to confirm. Nothing was sent.`
          : `${confirm.slice(0, 20)} is not the number of active readers (${count}). Nothing was sent.`,
      );
    const atText = text(form.at).trim();
    let at: Date | undefined;
    if (atText !== "") {
      at = localToDate(atText, tz);
      if (!at) return refuse(`"${atText.slice(0, 40)}" is not a date and time. Nothing was sent.`);
      if (at.getTime() < Date.now()) return refuse(`${showTime(at, tz)} has passed. Nothing was sent.`);
    }
    let started: Awaited<ReturnType<typeof startSend>>;
    try {
      started = await startSend(sendingOf(deps), {
        issueId: issue.id,
        again: text(form.again) === "yes",
        ...(at ? { at } : {}),
        // The text this page showed: an edit saved since is refused, never sent unseen.
        ...(text(form.rendition) ? { shown: text(form.rendition) } : {}),
      });
    } catch (error) {
      if (error instanceof DigestError && (error.kind === "invalid" || error.kind === "conflict"))
        return refuse(`${error.message.replace("use --again", "tick “Send again”")}. Nothing was sent.`);
      throw error;
    }
    await recordAudit(deps.db, actorOf(session), at ? "send.schedule" : "send.start", started.sendId, {
      issue: issue.slug,
      readers: count,
      ...(at ? { at: at.toISOString() } : {}),
    });
    return c.redirect(`/admin/sends/${started.sendId}`, 303);
  });

  return app;
}
