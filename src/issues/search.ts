import { type SQL, sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { marker } from "./search-snippet.js";
import { searchQuery } from "./search-terms.js";
import { indexArchiveOnce } from "./story-index.js";

/** The longest query we read: longer text is cut here (a search box, not a document). */
export const maxQueryLength = 200;

export interface StoryMatch {
  slug: string;
  subject: string;
  issueDate: string;
  /** The story's anchor in the issue's web version; empty when the issue's subject or intro matched. */
  anchor: string;
  /** Escaped HTML with the reader's words in <mark>. */
  headlineHtml: string;
  snippetHtml: string;
}

export interface ArchiveSearch {
  /** The query as searched: control characters gone, cut to maxQueryLength characters. */
  query: string;
  matches: StoryMatch[];
  /** All matching stories; `matches` holds the best `limit` of them. */
  total: number;
}

/** What a reader typed, made safe to search: no control characters (Postgres refuses NUL), not too long. */
export function cleanQuery(typed: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const flat = typed.replace(/[\u0000-\u001f\u007f]/g, " ").trim();
  return Array.from(flat).slice(0, maxQueryLength).join("").trim();
}

/**
 * Searches the published issues' stories. Headlines weigh more than text (see ArchivePart), ties go
 * to the newer issue. Drafts never match: only rows of issues with `published_at` are read.
 */
export async function searchArchive(db: Db, typed: string, limit = 20): Promise<ArchiveSearch> {
  const text = cleanQuery(typed);
  const terms = searchQuery(text);
  const parts: SQL[] = [];
  if (/[\p{L}\p{N}]/u.test(terms.websearch))
    parts.push(sql`websearch_to_tsquery('english', ${terms.websearch})`);
  for (const p of terms.prefixes) {
    // Only single CJK characters get here (search-terms.ts), so quoting them is enough.
    const prefix = sql`to_tsquery('simple', ${`'${p.char}':*`})`;
    parts.push(p.negated ? sql`!!${prefix}` : prefix);
  }
  if (parts.length === 0) return { query: text, matches: [], total: 0 };
  await indexArchiveOnce(db);
  const rows = await query<{
    slug: string;
    subject: string;
    issue_date: string;
    anchor: string;
    headline: string;
    body: string;
    total: number;
  }>(
    db,
    sql`
    with q as (select ${sql.join(parts, sql` && `)} as query)
    select i.slug, i.subject, i.issue_date, s.anchor, s.headline, s.body, count(*) over ()::int as total
    from q, archive_stories s join issues i on i.id = s.issue_id
    where numnode(q.query) > 0 and s.document @@ q.query and i.published_at is not null
    order by ts_rank(s.document, q.query) desc, i.issue_date desc, i.created_at desc, s.position
    limit ${limit}`,
  );
  const marks = marker(terms.marks);
  return {
    query: text,
    total: rows[0]?.total ?? 0,
    matches: rows.map((r) => ({
      slug: r.slug,
      subject: r.subject,
      issueDate: r.issue_date,
      anchor: r.anchor,
      headlineHtml: marks.highlight(r.headline),
      snippetHtml: marks.snippet(r.body),
    })),
  };
}
