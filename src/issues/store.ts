import { eq, sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { type Issue, issues } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { isUuid } from "../ids.js";
import type { Newsletter } from "../newsletter.js";
import { type Actor, cliActor } from "../staff/audit.js";
import { type ApprovedRendition, unapproveChangedSends } from "./approval.js";
import { renderPdf, storeIssuePdf } from "./edition.js";
import { checkIssue, formatProblem } from "./lint.js";
import type { Problem } from "./markdown.js";
import { indexIssue } from "./story-index.js";

/**
 * Storing a different text under a published volume: what readers got must stay what the archive
 * shows. A conflict (409 in the API); the CLI exits 2, as for any refused input.
 */
export class PublishedIssueError extends DigestError {
  override readonly name = "PublishedIssueError";
  constructor(volume: string, publishedAt: Date | undefined) {
    const when = publishedAt ? ` on ${publishedAt.toISOString().slice(0, 10)}` : "";
    super(
      "conflict",
      `Vol ${volume} was published${when} (it went out to readers), so its text is frozen; ` +
        "give the new text another volume",
    );
  }
}

export interface SavedIssue {
  issue: Issue;
  /** Lint warnings (errors refuse the issue). */
  warnings: Problem[];
  created: boolean;
  /** Scheduled sends that were approved for another text and now wait for an admin again. */
  unapprovedSends: string[];
}

/**
 * Stores an issue from its Markdown: parsed, rendered once and linted; errors refuse it. The slug
 * (from the volume) identifies it, so storing the same file again updates the stored copy. A changed
 * text un-approves the issue's scheduled sends; `actor` is who changed it, for the audit log.
 */
export async function saveIssue(
  db: Db,
  source: string,
  newsletter: Newsletter,
  fileName = "issue",
  actor: Actor = cliActor,
): Promise<SavedIssue> {
  const { issue, rendition, problems } = await checkIssue(source, newsletter);
  const errors = problems.filter((p) => p.severity === "error");
  if (!issue || !rendition || errors.length > 0) {
    throw new DigestError(
      "invalid",
      `the issue has errors:\n${errors.map((p) => formatProblem(fileName, p)).join("\n")}`,
    );
  }
  // Rendered before anything is written: an issue is never stored without its PDF edition.
  const pdf = await renderPdf(issue, newsletter);
  const values = {
    slug: issue.slug,
    volume: issue.volume,
    subject: issue.subject,
    issueDate: issue.date,
    preheader: issue.preheader ?? null,
    source,
    html: rendition.html,
    text: rendition.text,
  };
  const saved = await db.transaction(async (tx) => {
    // Lock order as a send starting (its row, then the issue's): the two take turns, never deadlock.
    await query(
      tx,
      sql`select s.id from sends s join issues i on i.id = s.issue_id
        where i.slug = ${issue.slug} and s.status = 'scheduled' for update of s`,
    );
    // The text stored until now, locked: what a send that already waits was last told about.
    const [before] = await query<ApprovedRendition>(
      tx,
      sql`select subject, html, text from issues where slug = ${issue.slug} for update`,
    );
    // A published issue's text is frozen: the update only happens while it is a draft (or when the
    // text is the same), in the same statement, so a send starting meanwhile cannot slip between.
    const [row] = await tx
      .insert(issues)
      .values(values)
      .onConflictDoUpdate({
        target: issues.slug,
        set: { ...values, updatedAt: sql`now()` },
        setWhere: sql`${issues.publishedAt} is null or ${issues.source} = excluded.source`,
      })
      .returning({ id: issues.id, createdAt: issues.createdAt, updatedAt: issues.updatedAt });
    if (!row) {
      const [published] = await tx.select().from(issues).where(eq(issues.slug, issue.slug));
      throw new PublishedIssueError(issue.volume, published?.publishedAt ?? undefined);
    }
    await indexIssue(tx, row.id, issue);
    // In the same transaction as the text: the PDF edition readers are linked to is always the
    // stored text's, whichever of two saves at once commits last.
    await storeIssuePdf(tx, row.id, pdf);
    const unapproved = await unapproveChangedSends(
      tx,
      actor,
      { ...issue, id: row.id },
      { before, now: values },
    );
    return { row, unapproved };
  });
  const { row, unapproved } = saved;
  const [stored] = await db.select().from(issues).where(eq(issues.id, row.id));
  if (!stored) throw new Error("stored issue vanished");
  return {
    issue: stored,
    warnings: problems.filter((p) => p.severity === "warning"),
    created: row.createdAt.getTime() === row.updatedAt.getTime(),
    unapprovedSends: unapproved,
  };
}

export async function findIssue(db: Db, idOrSlug: string): Promise<Issue | undefined> {
  const byId = isUuid(idOrSlug);
  // Postgres refuses a NUL in text outright; no slug has one.
  if (idOrSlug.includes("\0")) return undefined;
  const [row] = await db
    .select()
    .from(issues)
    .where(byId ? eq(issues.id, idOrSlug) : eq(issues.slug, idOrSlug));
  return row;
}
