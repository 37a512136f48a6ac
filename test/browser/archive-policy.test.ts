import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { issues, sends } from "../../src/db/schema.js";
import { saveIssue } from "../../src/issues/store.js";
import { repoRoot } from "../helpers/cli.js";
import { openSite } from "./site.js";

/**
 * The archive's pages under their Content-Security-Policy, in Chromium: they look as they should
 * (their inline styles apply, an issue's image from another site loads) and the browser reports no
 * violation; another site cannot frame them.
 */
const { base, service, browser } = await openSite({ worker: false });

// Another origin: an issue's image lives there, and a page there tries to frame the archive.
const png = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);
const elsewhere = createServer((req, res) => {
  if (req.url === "/chart.png") res.writeHead(200, { "content-type": "image/png" }).end(png);
  else
    res
      .writeHead(200, { "content-type": "text/html" })
      .end(`<!doctype html><title>framing</title><iframe src="${base}/archive/vol-9-1"></iframe>`);
});
await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
// "localhost" so the framing page is of another site than the archive at 127.0.0.1.
const other = `http://localhost:${(elsewhere.address() as AddressInfo).port}`;
afterAll(() => new Promise((resolve) => elsewhere.close(resolve)));

const { db } = service.database;
const source = readFileSync(join(repoRoot, "test/issues/fixtures/vol-9-1.md"), "utf8").replace(
  /\n\n## /,
  `\n\n![A chart](${other}/chart.png)\n\n## `,
);
const { issue } = await saveIssue(db, source, service.newsletter);
await db.update(issues).set({ publishedAt: new Date() }).where(eq(issues.id, issue.id));
await db.insert(sends).values({ issueId: issue.id, status: "done" });

/** A page that records every policy violation Chromium reports, as the console shows them. */
async function watchedPage(): Promise<{ page: Page; violations: string[] }> {
  const page = await browser.newPage();
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|X-Frame-Options|Refused to/i.test(message.text()))
      violations.push(message.text());
  });
  return { page, violations };
}

describe("the archive under its Content-Security-Policy, in Chromium", () => {
  for (const path of ["/", "/archive", "/archive?q=budgets", "/archive/vol-9-1", "/archive/vol-404"]) {
    it(`${path} renders with its styles and the browser reports no violation`, async () => {
      const { page, violations } = await watchedPage();
      const res = await page.goto(`${base}${path}`);
      expect(res?.headers()["content-security-policy"]).toContain("default-src 'none'");
      expect(res?.headers()["x-frame-options"]).toBe("DENY");
      await page.waitForLoadState("load");
      // The pages' own inline stylesheets apply (the reader pages' body is 40rem wide; the issue's table).
      const styled = await page.evaluate(
        "getComputedStyle(document.body).maxWidth === '640px' || document.querySelector('.dg-page') !== null",
      );
      expect(styled).toBe(true);
      if (path === "/archive/vol-9-1") {
        const width = await page.evaluate(`document.querySelector('img[alt="A chart"]').naturalWidth`);
        expect(width).toBe(1);
      }
      if (path === "/archive?q=budgets")
        expect(await page.getByRole("link", { name: /R&D/ }).count()).toBeGreaterThan(0);
      expect(violations).toEqual([]);
      await page.close();
    });
  }

  it("cannot be framed by another site", async () => {
    const { page } = await watchedPage();
    await page.goto(`${other}/`);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    // The framing page's load waits for its frame: refused, the frame has its error page by then.
    await frame?.waitForLoadState("load");
    // A refused frame never shows the issue: its document is Chromium's error page, not the archive.
    const shown = await frame?.evaluate("document.body ? document.body.innerText : ''").catch(() => "");
    expect(shown ?? "").not.toContain("日米同盟の強化で一致");
    await page.close();
  });
});
