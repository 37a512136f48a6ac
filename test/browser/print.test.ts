import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { issues, sends } from "../../src/db/schema.js";
import { saveIssue } from "../../src/issues/store.js";
import { repoRoot } from "../helpers/cli.js";
import { freePort } from "../helpers/smtp.js";
import { startService } from "../http/harness.js";
import { launchChromium } from "./chromium.js";

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const service = await startService({ publicUrl: base, worker: false });
const server: ServerType = serve({ fetch: service.app.fetch, port, hostname: "127.0.0.1" });
const browser = await launchChromium();
afterAll(async () => {
  await browser.close();
  await new Promise((resolve) => server.close(resolve));
});

const { db } = service.database;
const source = readFileSync(join(repoRoot, "test/issues/fixtures/vol-9-1.md"), "utf8");
const { issue } = await saveIssue(db, source, service.newsletter);
await db.update(issues).set({ publishedAt: new Date() }).where(eq(issues.id, issue.id));
await db.insert(sends).values({ issueId: issue.id, status: "done" });

describe("printing the archive in a real browser", () => {
  it("the web version shows its PDF button on screen, and on paper no button, with a readable masthead", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/archive/vol-9-1`);
    const button = page.getByRole("link", { name: "Download this issue (PDF)" });
    expect(await button.isVisible()).toBe(true);
    expect(await button.getAttribute("href")).toBe(`${base}/archive/vol-9-1.pdf`);
    const pdf = await page.request.get(`${base}/archive/vol-9-1.pdf`);
    expect(pdf.headers()["content-type"]).toBe("application/pdf");

    await page.emulateMedia({ media: "print" });
    expect(await button.isVisible()).toBe(false);
    expect(await page.getByRole("link", { name: "Unsubscribe" }).isVisible()).toBe(false);
    const name = page.getByText(service.newsletter.name, { exact: true }).first();
    // Browsers drop background colours on paper: the name must not stay white.
    // Strings, because these run in the page and the tests' TypeScript has no DOM types.
    expect(await name.evaluate("el => getComputedStyle(el).color")).not.toBe("rgb(255, 255, 255)");
    const paper = await page.evaluate(
      "getComputedStyle(document.querySelector('.dg-page > table td')).backgroundColor",
    );
    expect(paper).toBe("rgb(255, 255, 255)");
    expect(await page.getByText("日米同盟の強化で一致").first().isVisible()).toBe(true);
  });

  it("the archive page prints its list of issues without the subscribe and search forms", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const forms = [page.locator('form[action="/subscribe"]'), page.getByRole("search")];
    for (const form of forms) expect(await form.isVisible()).toBe(true);
    await page.emulateMedia({ media: "print" });
    for (const form of forms) expect(await form.isVisible()).toBe(false);
    expect(await page.getByRole("link", { name: /日米同盟/ }).isVisible()).toBe(true);
  });
});
