import { createHash } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { type Issue, issuePdfs, issues } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { isUuid } from "../ids.js";
import type { Newsletter } from "../newsletter.js";
import { type ParsedIssue, parseIssue } from "./parse.js";

/** One issue's PDF edition as the archive and the console hand it out. */
export interface IssueEdition {
  issueId: string;
  slug: string;
  published: boolean;
  pdf: Buffer;
  /** Hex SHA-256 of the bytes: a strong ETag that changes only when the bytes do. */
  sha256: string;
  /** "US-Japan-Alliance-Digest-Vol-2.6.pdf" */
  fileName: string;
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/**
 * Keeps an issue's PDF. Storing the same issue again replaces it while the issue is a draft; once
 * published, the first stored edition stays, like the issue's text, so its ETag never changes.
 */
export async function storeIssuePdf(db: Db, issueId: string, pdf: Buffer): Promise<void> {
  const values = { issueId, pdf, sha256: sha256(pdf) };
  const draft = db
    .select({ id: issues.id })
    .from(issues)
    .where(and(eq(issues.id, issueId), isNull(issues.publishedAt)));
  await db
    .insert(issuePdfs)
    .values(values)
    .onConflictDoUpdate({
      target: issuePdfs.issueId,
      set: { pdf: values.pdf, sha256: values.sha256, updatedAt: sql`now()` },
      setWhere: sql`exists (${draft})`,
    });
}

/**
 * The PDF edition of an issue, by id or slug: what `GET /archive/<slug>.pdf` serves (published
 * issues only) and what the console's "Download PDF" offers (drafts too). An issue stored before
 * the PDF edition existed gets its PDF rendered from its stored Markdown on first request, and kept.
 */
export async function issuePdf(
  deps: { db: Db; newsletter: Newsletter },
  idOrSlug: string,
  options: { publishedOnly?: boolean } = {},
): Promise<IssueEdition | undefined> {
  // Postgres refuses a NUL in text outright; no slug has one, or is this long.
  if (idOrSlug.includes("\0") || idOrSlug.length > 200) return undefined;
  const { db, newsletter } = deps;
  const [row] = await db
    .select({ issue: issues, pdf: issuePdfs.pdf, sha256: issuePdfs.sha256 })
    .from(issues)
    .leftJoin(issuePdfs, eq(issuePdfs.issueId, issues.id))
    .where(isUuid(idOrSlug) ? eq(issues.id, idOrSlug) : eq(issues.slug, idOrSlug));
  if (!row) return undefined;
  const published = row.issue.publishedAt !== null;
  if (options.publishedOnly && !published) return undefined;
  let pdf = row.pdf;
  let hash = row.sha256;
  if (!pdf || !hash) {
    pdf = await renderStored(row.issue, newsletter);
    await storeIssuePdf(db, row.issue.id, pdf);
    hash = sha256(pdf);
  }
  return {
    issueId: row.issue.id,
    slug: row.issue.slug,
    published,
    pdf,
    sha256: hash,
    fileName: pdfFileName(newsletter.name, row.issue.volume),
  };
}

/** The PDF renderer takes over half a second to load: only processes that render pay for it. */
export async function renderPdf(issue: ParsedIssue, newsletter: Newsletter): Promise<Buffer> {
  const { renderIssuePdf } = await import("./pdf.js");
  return renderIssuePdf(issue, newsletter);
}

async function renderStored(issue: Issue, newsletter: Newsletter): Promise<Buffer> {
  const parsed = parseIssue(issue.source).issue;
  if (!parsed) {
    throw new DigestError("invalid", `issue ${issue.slug}: its stored Markdown no longer parses`);
  }
  return renderPdf(parsed, newsletter);
}

/**
 * A readable file name for the download: "US-Japan-Alliance-Digest-Vol-2.6.pdf". ASCII only, so it
 * is safe in a Content-Disposition header as it is.
 */
export function pdfFileName(newsletterName: string, volume: string): string {
  const base = `${newsletterName} Vol ${volume}`
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9.]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
  return `${base || "issue"}.pdf`;
}
