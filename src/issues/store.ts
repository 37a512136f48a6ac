import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { type Issue, issues } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { isUuid } from "../ids.js";
import type { Newsletter } from "../newsletter.js";
import { checkIssue, formatProblem } from "./lint.js";
import type { Problem } from "./markdown.js";

export interface SavedIssue {
  issue: Issue;
  /** Lint warnings (errors refuse the issue). */
  warnings: Problem[];
  created: boolean;
}

/**
 * Stores an issue from its Markdown: parsed, rendered once and linted; errors refuse it. The slug
 * (from the volume) identifies it, so storing the same file again updates the stored copy.
 */
export async function saveIssue(
  db: Db,
  source: string,
  newsletter: Newsletter,
  fileName = "issue",
): Promise<SavedIssue> {
  const { issue, rendition, problems } = await checkIssue(source, newsletter);
  const errors = problems.filter((p) => p.severity === "error");
  if (!issue || !rendition || errors.length > 0) {
    throw new DigestError(
      "invalid",
      `the issue has errors:\n${errors.map((p) => formatProblem(fileName, p)).join("\n")}`,
    );
  }
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
  const [row] = await db
    .insert(issues)
    .values(values)
    .onConflictDoUpdate({ target: issues.slug, set: { ...values, updatedAt: sql`now()` } })
    .returning({ id: issues.id, createdAt: issues.createdAt, updatedAt: issues.updatedAt });
  if (!row) throw new Error("insert returned no row");
  const [stored] = await db.select().from(issues).where(eq(issues.id, row.id));
  if (!stored) throw new Error("stored issue vanished");
  return {
    issue: stored,
    warnings: problems.filter((p) => p.severity === "warning"),
    created: row.createdAt.getTime() === row.updatedAt.getTime(),
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
