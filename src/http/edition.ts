import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { issuePdf } from "../issues/edition.js";
import type { AppDeps } from "./deps.js";

/** True when an If-None-Match header names this ETag (or `*`); weak and strong forms alike. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
}

/**
 * `GET /archive/<slug>.pdf`: a published issue's PDF edition, stored when the issue was, so serving
 * it renders nothing. Drafts answer 404 like their web version. Registered before `/archive/:slug`,
 * which would otherwise take "vol-2-6.pdf" for a slug.
 */
export function editionRoutes(deps: Pick<AppDeps, "db" | "newsletter">) {
  const app = new Hono();
  app.get("/archive/:file{.+\\.pdf}", async (c) => {
    const slug = c.req.param("file").slice(0, -".pdf".length);
    const edition = await issuePdf(deps, slug, { publishedOnly: true });
    if (!edition) throw new HTTPException(404, { message: "no such issue" });
    const etag = `"${edition.sha256}"`;
    c.header("ETag", etag);
    // A published edition never changes; revalidating after an hour costs a 304 at most.
    c.header("Cache-Control", "public, max-age=3600");
    if (matches(c.req.header("if-none-match"), etag)) return c.body(null, 304);
    c.header("Content-Type", "application/pdf");
    // The file name is ASCII letters, digits, dots and dashes only (see pdfFileName): safe as it is.
    c.header("Content-Disposition", `inline; filename="${edition.fileName}"`);
    return c.body(new Uint8Array(edition.pdf));
  });
  return app;
}
