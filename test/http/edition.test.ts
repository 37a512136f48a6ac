import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { issuePdfs, issues, sends } from "../../src/db/schema.js";
import { issuePdf, storeIssuePdf } from "../../src/issues/edition.js";
import { saveIssue } from "../../src/issues/store.js";
import { loadNewsletter } from "../../src/newsletter.js";
import { repoRoot } from "../helpers/cli.js";
import { createEmbeddedDatabase } from "../helpers/db.js";
import { pdfText, squash } from "../issues/pdf-reader.js";
import { startService } from "./harness.js";

const { app, database, newsletter } = await startService({ worker: false });
const db = database.db;
const seedSource = readFileSync(join(repoRoot, "examples/issues/vol-2-6.md"), "utf8");
// No `pdf:` in its front matter: its email and archive page link to the PDF edition.
const ownPdfSource = readFileSync(join(repoRoot, "test/issues/fixtures/vol-9-1.md"), "utf8");

async function publish(issueId: string) {
  await db.update(issues).set({ publishedAt: new Date() }).where(eq(issues.id, issueId));
  await db.insert(sends).values({ issueId, status: "running", startedAt: new Date() });
}
const storedPdf = async (issueId: string) =>
  (await db.select().from(issuePdfs).where(eq(issuePdfs.issueId, issueId)))[0];

describe("GET /archive/<slug>.pdf", () => {
  it("answers 404 for a draft, and the PDF once the issue is published", async () => {
    const { issue } = await saveIssue(db, seedSource, newsletter);
    expect((await app.request("/archive/vol-2-6.pdf")).status).toBe(404);

    await publish(issue.id);
    const res = await app.request("/archive/vol-2-6.pdf");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    expect(res.headers.get("content-disposition")).toBe(
      'inline; filename="US-Japan-Alliance-Digest-Vol-2.6.pdf"',
    );
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.subarray(0, 5).toString()).toBe("%PDF-");
    expect(squash(pdfText(body))).toContain(squash("US and Japan sign deal on critical minerals"));
    // Served as stored when the issue was saved: nothing is rendered per request.
    expect(body.equals((await storedPdf(issue.id))!.pdf)).toBe(true);
  });

  it("has a stable ETag and answers a matching If-None-Match with an empty 304", async () => {
    const first = await app.request("/archive/vol-2-6.pdf");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect((await app.request("/archive/vol-2-6.pdf")).headers.get("etag")).toBe(etag);

    const cached = await app.request("/archive/vol-2-6.pdf", { headers: { "If-None-Match": etag! } });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe("");
    const weak = await app.request("/archive/vol-2-6.pdf", {
      headers: { "If-None-Match": `"other", W/${etag}` },
    });
    expect(weak.status).toBe(304);
    const stale = await app.request("/archive/vol-2-6.pdf", { headers: { "If-None-Match": '"other"' } });
    expect(stale.status).toBe(200);
    const head = await app.request("/archive/vol-2-6.pdf", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toBe(etag);
    expect(await head.text()).toBe("");
  });

  it("keeps a published edition as it was when the same issue is stored again", async () => {
    const before = (await app.request("/archive/vol-2-6.pdf")).headers.get("etag");
    const { issue } = await saveIssue(db, seedSource, newsletter);
    await storeIssuePdf(db, issue.id, Buffer.from("%PDF- not the edition"));
    expect((await app.request("/archive/vol-2-6.pdf")).headers.get("etag")).toBe(before);
  });

  it("renders and keeps the PDF of an issue stored before the PDF edition existed", async () => {
    const [row] = await db.select().from(issues).where(eq(issues.slug, "vol-2-6"));
    const before = await storedPdf(row!.id);
    await db.delete(issuePdfs).where(eq(issuePdfs.issueId, row!.id));
    const res = await app.request("/archive/vol-2-6.pdf");
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe(`"${before!.sha256}"`);
    expect((await storedPdf(row!.id))?.sha256).toBe(before!.sha256);
  });

  it("answers 404, never a 5xx, for unknown or malformed names", async () => {
    for (const path of [
      "/archive/vol-404.pdf",
      "/archive/.pdf",
      "/archive/%00.pdf",
      `/archive/${"x".repeat(5000)}.pdf`,
      "/archive/vol-2-6.PDF",
      "/archive/00000000-0000-4000-8000-000000000000.pdf",
    ]) {
      expect((await app.request(path)).status, path).toBe(404);
    }
  });
});

describe("links to the PDF edition", () => {
  it("the web version's download button and the archive list point to /archive/<slug>.pdf when the issue names no PDF", async () => {
    const { issue } = await saveIssue(db, ownPdfSource, newsletter);
    await publish(issue.id);
    const page = await (await app.request("/archive/vol-9-1")).text();
    expect(page).toContain('href="http://localhost:3000/archive/vol-9-1.pdf"');
    expect(page).toContain("Download this issue (PDF)");
    expect((await app.request("/archive/vol-9-1.pdf")).status).toBe(200);
    const home = await (await app.request("/")).text();
    expect(home).toContain('href="/archive/vol-9-1.pdf"');
  });

  it("the issue's own `pdf:` link wins in the email when the front matter has one", async () => {
    const page = await (await app.request("/archive/vol-2-6")).text();
    expect(page).toContain(
      'href="https://spfusa.org/wp-content/uploads/2023/04/US-Japan-Alliance-Digest-Vol-2.6.pdf"',
    );
  });

  it("the plain text names the PDF edition's address too", async () => {
    const [row] = await db.select().from(issues).where(eq(issues.slug, "vol-9-1"));
    expect(row?.text).toMatch(/\{\{digest_view_url\}\}\.pdf/);
  });
});

describe("printing the archive", () => {
  it("the web version and the archive page carry a print stylesheet that hides buttons and forms", async () => {
    const page = await (await app.request("/archive/vol-9-1")).text();
    expect(page).toContain("@media print");
    expect(page).toMatch(/class="dg-noprint"[^>]*>[\s\S]*?Download this issue \(PDF\)/);
    const home = await (await app.request("/")).text();
    expect(home).toMatch(/@media print\{form,button/);
  });
});

describe("the archive's HTML", () => {
  // A published issue with an image, as staff write them: the policy must not break it.
  let slug = "";
  beforeAll(async () => {
    const { issue } = await saveIssue(
      db,
      ownPdfSource
        .replace("volume: 9.1", "volume: 9.3")
        .replace(/\n\n## /, "\n\n![A chart](https://images.example.org/chart.png)\n\n## "),
      newsletter,
    );
    await publish(issue.id);
    slug = issue.slug;
  });

  it("runs no script, cannot be framed, and keeps its base and forms at home: issues, the list, search results and the 404 page", async () => {
    for (const path of [`/archive/${slug}`, "/", "/archive", "/archive?q=statement", "/archive/vol-404"]) {
      const res = await app.request(path);
      expect(res.headers.get("content-type"), path).toMatch(/^text\/html/);
      const csp = (res.headers.get("content-security-policy") ?? "").split(/;\s*/);
      expect(csp, path).toEqual(
        expect.arrayContaining([
          "default-src 'none'",
          "frame-ancestors 'none'",
          "base-uri 'none'",
          "form-action 'self'",
          "img-src https: http:",
          "style-src 'unsafe-inline'",
        ]),
      );
      expect(
        csp.some((d) => d.startsWith("script-src")),
        path,
      ).toBe(false);
      expect(res.headers.get("x-frame-options"), path).toBe("DENY");
    }
  });

  it("still shows the issue's styles and images under that policy: it needs nothing the policy forbids", async () => {
    const res = await app.request(`/archive/${slug}`);
    expect(res.headers.get("content-security-policy")).toContain("img-src https: http:");
    const page = await res.text();
    expect(page).toContain('src="https://images.example.org/chart.png"');
    expect(page).toMatch(/<style[\s>]/);
    expect(page).not.toMatch(/<script|<link[^>]+stylesheet|<iframe|<object|<embed|<base/i);
    for (const [, src] of page.matchAll(/<img[^>]+src="([^"]*)"/g)) expect(src).toMatch(/^https?:\/\//);
    // The PDF edition is left to the browser's own viewer, which a page policy can break.
    const pdf = await app.request(`/archive/${slug}.pdf`);
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    expect(pdf.headers.get("content-security-policy")).toBeNull();
  });
});

describe("issuePdf, for the console's Download PDF", () => {
  it("gives a draft's PDF to staff, and nothing when only published editions are asked for", async () => {
    const draft = ownPdfSource.replace("volume: 9.1", 'volume: "9.2"');
    const { issue } = await saveIssue(db, draft, newsletter);
    const edition = await issuePdf({ db, newsletter }, issue.id);
    expect(edition).toMatchObject({
      slug: "vol-9-2",
      published: false,
      fileName: "US-Japan-Alliance-Digest-Vol-9.2.pdf",
    });
    expect(edition?.pdf.subarray(0, 5).toString()).toBe("%PDF-");
    expect(await issuePdf({ db, newsletter }, issue.id, { publishedOnly: true })).toBeUndefined();
    expect(await issuePdf({ db, newsletter }, "vol-9-2", { publishedOnly: true })).toBeUndefined();
  });

  it("stores and reads the same bytes on embedded PGlite", async () => {
    const embedded = await createEmbeddedDatabase();
    const local = loadNewsletter("newsletter.yaml", repoRoot);
    const { issue } = await saveIssue(embedded.db, seedSource, local);
    const edition = await issuePdf({ db: embedded.db, newsletter: local }, "vol-2-6");
    expect(Buffer.isBuffer(edition?.pdf)).toBe(true);
    expect(edition?.issueId).toBe(issue.id);
    expect(squash(pdfText(edition!.pdf))).toContain(squash("The Philippines getting US-Japan help"));
  });
});
