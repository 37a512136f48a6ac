import { type SQL, sql } from "drizzle-orm";
import type { Block } from "../../emails/_components/content.js";
import { type Db, query } from "../db/database.js";
import { plainText } from "./markdown.js";
import { type ParsedIssue, parseIssue } from "./parse.js";
import { blocksHtml } from "./render.js";
import { documentText } from "./search-terms.js";

/**
 * The archive_stories rows of an issue: what search finds and the feed carries. Written with the
 * issue (store.ts), so a published issue's rows are the text that went out; an issue stored before
 * the table existed gets its rows the first time the archive is searched or its feed read.
 */
export interface ArchivePart {
  position: number;
  /** The story's id in the web version (`/archive/<slug>#<anchor>`); empty for the issue itself. */
  anchor: string;
  headline: string;
  body: string;
  html: string;
  /**
   * Search weights (ts_rank: A 1.0, B 0.4, C 0.2, D 0.1). A story's headline is A and its text B;
   * the issue's subject only C and its intro D, or a word in every subject ("Japan") would bury
   * the stories that are about it.
   */
  weights: readonly ["A", "B"] | readonly ["C", "D"];
}

function blocksText(blocks: Block[]): string {
  return blocks
    .map((block): string => {
      switch (block.kind) {
        case "paragraph":
        case "heading":
          return plainText(block.children);
        case "list":
          return block.items.map(blocksText).join("\n");
        case "quote":
          return blocksText(block.children);
        case "code":
          return block.text;
        case "rule":
          return "";
      }
      return "";
    })
    .filter((text) => text.length > 0)
    .join("\n");
}

export function archiveParts(issue: ParsedIssue): ArchivePart[] {
  return [
    {
      position: 0,
      anchor: "",
      headline: issue.subject,
      body: blocksText(issue.intro),
      html: blocksHtml(issue.intro),
      weights: ["C", "D"],
    },
    ...issue.stories.map((story, i) => ({
      position: i + 1,
      anchor: story.id,
      headline: story.headline,
      body: blocksText(story.body),
      html: blocksHtml(story.body),
      weights: ["A", "B"] as const,
    })),
  ];
}

function rowsOf(issueId: string, parts: ArchivePart[]): SQL {
  return sql.join(
    parts.map(
      (p) => sql`(${issueId}, ${p.position}, ${p.anchor}, ${p.headline}, ${p.body}, ${p.html},
        setweight(to_tsvector('english', ${documentText(p.headline)}), ${sql.raw(`'${p.weights[0]}'`)})
        || setweight(to_tsvector('english', ${documentText(p.body)}), ${sql.raw(`'${p.weights[1]}'`)}))`,
    ),
    sql`, `,
  );
}

const columns = sql`archive_stories (issue_id, position, anchor, headline, body, html, document)`;

/** Replaces an issue's rows: call it in the transaction that stores the issue's text. */
export async function indexIssue(
  db: Pick<Db, "execute">,
  issueId: string,
  issue: ParsedIssue,
): Promise<void> {
  await query(db, sql`delete from archive_stories where issue_id = ${issueId}`);
  await query(db, sql`insert into ${columns} values ${rowsOf(issueId, archiveParts(issue))}`);
}

/**
 * Gives rows to the issues that have none: those stored before archive search existed (every issue
 * stored since got its rows with its text). An issue whose source no longer parses (the rules grew
 * stricter) is indexed as one part, its subject and plain text, so it is still found and not tried
 * again. Two processes at once both inserting is harmless: the second insert changes nothing.
 */
export async function indexUnindexedIssues(db: Db): Promise<number> {
  const missing = await query<{ id: string; source: string; subject: string; text: string }>(
    db,
    sql`select i.id, i.source, i.subject, i.text from issues i
      where not exists (select 1 from archive_stories s where s.issue_id = i.id)`,
  );
  for (const row of missing) {
    const { issue } = parseIssue(row.source);
    const parts: ArchivePart[] = issue
      ? archiveParts(issue)
      : [{ position: 0, anchor: "", headline: row.subject, body: row.text, html: "", weights: ["A", "B"] }];
    await query(db, sql`insert into ${columns} values ${rowsOf(row.id, parts)} on conflict do nothing`);
  }
  return missing.length;
}

const indexedOnce = new WeakMap<Db, Promise<void>>();

/**
 * indexUnindexedIssues, once per database in this process (the first search or feed read after an
 * upgrade), not on every request: after it, every issue has rows. A failed pass is tried again.
 */
export function indexArchiveOnce(db: Db): Promise<void> {
  let pass = indexedOnce.get(db);
  if (!pass) {
    pass = indexUnindexedIssues(db).then(
      () => undefined,
      (error: unknown) => {
        indexedOnce.delete(db);
        throw error;
      },
    );
    indexedOnce.set(db, pass);
  }
  return pass;
}
