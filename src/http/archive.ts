import { and, asc, desc, eq, inArray, isNotNull } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { type ArchiveStory, archiveStories, issues } from "../db/schema.js";
import { escapeHtml, personalize } from "../issues/personalize.js";
import { indexArchiveOnce } from "../issues/story-index.js";
import type { Newsletter } from "../newsletter.js";

/**
 * The public archive: published issues only, those whose first real send has started
 * (`published_at`). A draft, and an issue that only had test sends, answers 404 everywhere: its
 * slug is no secret (it comes from the volume), and what is not out yet must not leak early.
 */
const published = isNotNull(issues.publishedAt);

export async function archivedIssues(db: Db, limit = 100) {
  return db
    .select({
      id: issues.id,
      slug: issues.slug,
      subject: issues.subject,
      issueDate: issues.issueDate,
      updatedAt: issues.updatedAt,
    })
    .from(issues)
    .where(published)
    .orderBy(desc(issues.issueDate), desc(issues.createdAt))
    .limit(limit);
}

/** The web version of a published issue, with the per-reader parts filled in for nobody in particular. */
export async function webVersion(db: Db, slug: string, publicUrl: string): Promise<string | undefined> {
  // Postgres refuses a NUL in text outright (a 500); no slug has one, or is this long.
  if (slug.includes("\0") || slug.length > 200) return undefined;
  const [issue] = await db
    .select()
    .from(issues)
    .where(and(eq(issues.slug, slug), published));
  if (!issue) return undefined;
  return personalize(issue, {
    email: "you",
    unsubscribeUrl: `${publicUrl}/`,
    manageUrl: `${publicUrl}/`,
    viewUrl: `${publicUrl}/archive/${issue.slug}`,
  }).html;
}

/** The archive with each issue's parts (subject and intro, then its stories), for the feed's full text. */
export async function archivedIssuesWithStories(db: Db, limit = 100) {
  const entries = await archivedIssues(db, limit);
  if (entries.length === 0) return [];
  await indexArchiveOnce(db);
  const parts = await db
    .select()
    .from(archiveStories)
    .where(
      inArray(
        archiveStories.issueId,
        entries.map((e) => e.id),
      ),
    )
    .orderBy(asc(archiveStories.position));
  return entries.map((e) => ({ ...e, parts: parts.filter((p) => p.issueId === e.id) }));
}

/**
 * An issue's full text as the feed carries it: the intro, then each story under a headline that
 * links to its permalink, so a feed reader's link leads to that story in the web version.
 */
function fullText(issueUrl: string, parts: ArchiveStory[]): string {
  return parts
    .map((p) =>
      p.anchor === ""
        ? p.html
        : `<h2><a href="${escapeHtml(`${issueUrl}#${p.anchor}`)}">${escapeHtml(p.headline)}</a></h2>\n${p.html}`,
    )
    .join("\n");
}

/** Escaped for XML text and attributes; characters XML 1.0 forbids (most control characters) left out. */
const xml = (s: string) =>
  s
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");

/** An Atom feed (RFC 4287) of the archive. */
export function atomFeed(
  newsletter: Newsletter,
  publicUrl: string,
  entries: Awaited<ReturnType<typeof archivedIssuesWithStories>>,
): string {
  const updated = new Date(Math.max(0, ...entries.map((e) => e.updatedAt.getTime())));
  const items = entries.map((e) => {
    const url = `${publicUrl}/archive/${encodeURIComponent(e.slug)}`;
    return `  <entry>
    <title>${xml(e.subject)}</title>
    <link rel="alternate" type="text/html" href="${xml(url)}"/>
    <id>${xml(url)}</id>
    <updated>${e.updatedAt.toISOString()}</updated>
    <content type="html">${xml(fullText(url, e.parts))}</content>
${/^\d{4}-\d{2}-\d{2}$/.test(e.issueDate) ? `    <published>${e.issueDate}T00:00:00Z</published>\n` : ""}  </entry>`;
  });
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>${xml(newsletter.archiveTitle ?? newsletter.name)}</title>
  <link rel="alternate" type="text/html" href="${xml(publicUrl)}/"/>
  <link rel="self" type="application/atom+xml" href="${xml(publicUrl)}/feed.xml"/>
  <id>${xml(publicUrl)}/</id>
  <updated>${updated.toISOString()}</updated>
  <author><name>${xml(newsletter.publisher ?? newsletter.name)}</name></author>
${items.join("\n")}
</feed>
`;
}
