import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import { sql } from "drizzle-orm";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { socketAddress } from "../../src/http/request.js";
import { addStaff } from "../../src/staff/accounts.js";
import { cliActor } from "../../src/staff/audit.js";
import { repoRoot } from "../helpers/cli.js";
import { freePort } from "../helpers/smtp.js";
import { parsed, startService } from "../http/harness.js";
import { pipeline } from "../sending/harness.js";
import { launchChromium } from "./chromium.js";

/**
 * A staff member walks the console in Debian's Chromium, against the real app on a socket, real
 * Postgres and Redis, a delivery worker in this process and a capture SMTP server. Screenshots of
 * the main pages at 1280 px and 390 px go to test-output/console/ (ignored by git).
 */
const shots = join(repoRoot, "test-output", "console");
mkdirSync(shots, { recursive: true });
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const service = await startService({ publicUrl: base });
const sending = await pipeline(service.database, service.smtp.url);
await sending.startWorker();
const { createApp } = await import("../../src/http/app.js");
const app = await createApp({
  ...service.deps,
  clientIp: socketAddress,
  sending: sending.plan,
  timezone: "Asia/Tokyo",
});
const server: ServerType = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });
const browser = await launchChromium();
afterAll(async () => {
  await browser.close();
  await new Promise((resolve) => server.close(resolve));
  await sending.close();
});

const { database, smtp } = service;
// Five readers; the mail server refuses one address as unknown, so the send shows a bounce.
await database.query(sql`insert into subscribers (email, name, status, consent_source, confirmed_at)
  select 'reader' || i || '@readers.test', 'Reader ' || i, 'active', 'admin', now() from generate_series(1, 4) as i`);
await database.query(sql`insert into subscribers (email, status, consent_source, confirmed_at)
  values ('gone@readers.test', 'active', 'admin', now())`);
smtp.options.onRcpt = (address) =>
  address === "gone@readers.test"
    ? { code: 550, message: "5.1.1 <gone@readers.test>: no such user here" }
    : undefined;

const password = "a long and sensible passphrase";
const setupLink = async (email: string, role: "admin" | "editor") =>
  `${base}/admin/setup/${(await addStaff(database.db, cliActor, { email, role })).token}`;

const issueWith = (link: string) => `---
volume: 9.1
date: 2026-11-30
subject: "日米ダイジェスト 9.1: tariffs < talks & more"
preheader: 東京とワシントン
---

## 日米が重要鉱物で合意

東京とワシントンは新しい協定に署名しました。Prices < costs & margins stay "as written".

## Read the plan

The plan is [here](${link}) for anyone to read.
`;

/**
 * Waits until the page is still, for a screenshot: loaded, its transitions (the send page's bar)
 * over, and a frame painted since. Layout itself needs no wait: reading scrollWidth lays the page
 * out at the new width.
 */
async function settled(page: Page) {
  await page.waitForLoadState("load");
  await page.evaluate(
    `Promise.allSettled(document.getAnimations().map((a) => a.finished)).then(() => new Promise((painted) => requestAnimationFrame(() => requestAnimationFrame(painted))))`,
  );
}

async function snap(page: Page, name: string) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await settled(page);
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow, `${name} overflows at ${width} px`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(shots, `${name}-${width}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

const mailTo = async (address: string) => {
  await expect.poll(() => smtp.messages.some((m) => m.to.includes(address)), { timeout: 20_000 }).toBe(true);
  return parsed(smtp.messages.find((m) => m.to.includes(address))!);
};

describe("a staff member in a real browser", () => {
  let issueUrl = "";
  /** The admin's session as the first test left it, so the later ones start signed in. */
  let signedIn: Awaited<ReturnType<BrowserContext["storageState"]>> | undefined;
  const adminContext = () => {
    if (!signedIn) throw new Error("the admin has not signed in (the first test failed)");
    return browser.newContext({ viewport: { width: 1280, height: 900 }, storageState: signedIn });
  };

  it("sets a password from the setup link and signs in", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/admin`);
    expect(page.url()).toBe(`${base}/admin/login`);
    await snap(page, "login");
    await page.goto(await setupLink("chief@staff.test", "admin"));
    await page.fill("#password", password);
    await page.fill("#repeat", password);
    await page.click("button[type=submit]");
    await page.waitForURL(`${base}/admin/login?done=setup`);
    await page.fill("#email", "chief@staff.test");
    await page.fill("#password", password);
    await page.click("button[type=submit]");
    await page.waitForURL(`${base}/admin`);
    expect(await page.textContent("h1")).toBe("Overview");
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: "digest_session", httpOnly: true, sameSite: "Strict" });
    signedIn = await page.context().storageState();
    await page.close();
  });

  it("pastes an issue in Japanese with < and &, fixes its lint error and sees both preview widths", async () => {
    const context = await adminContext();
    const page = await context.newPage();
    await page.goto(`${base}/admin/issues/new`);
    await page.fill("#markdown", issueWith("javascript:alert(1)"));
    // The live preview follows the text (JavaScript on) before anything is saved.
    await expect
      .poll(() => page.textContent("#live-problems"), { timeout: 10_000 })
      .toMatch(/line 14: error/);
    await page.click("form[action='/admin/issues'] button[type=submit]");
    expect(await page.textContent(".notice.bad")).toMatch(/Not saved: 1 lint error/);
    expect(await page.textContent(".source li.has-problem")).toMatch(/javascript:alert/);
    expect(await database.query(sql`select 1 from issues`)).toHaveLength(0);
    await page.waitForSelector("#live-preview[data-refreshed]");
    await snap(page, "editor-lint");

    await page.fill("#markdown", issueWith("https://example.org/plan"));
    await page.click("form[action='/admin/issues'] button[type=submit]");
    await page.waitForURL(/\/admin\/issues\/[0-9a-f-]{36}$/);
    issueUrl = page.url();
    expect(await page.textContent("h1")).toContain("日米ダイジェスト 9.1: tariffs < talks & more");
    const widths = await page.$$eval("iframe.frame", (frames) =>
      frames.map((f) => f.getBoundingClientRect().width),
    );
    expect(widths).toEqual([600, 375]);
    const preview = page.frames().find((f) => f.url().endsWith("/preview.html"));
    await expect.poll(async () => preview?.textContent("body")).toContain("Prices < costs & margins");
    expect(await preview?.textContent("body")).toContain("日米が重要鉱物で合意");
    expect(await page.textContent("pre.plain")).toContain("Prices < costs & margins");
    await snap(page, "issue");
    await page.setViewportSize({ width: 390, height: 900 });
    await page.locator("iframe.frame-phone").scrollIntoViewIfNeeded();
    // The preview is sandboxed (no scripts, a process of its own): nothing in it says when it has
    // painted at this width, so this picture still waits a second.
    await page.waitForTimeout(1000);
    await page.screenshot({ path: join(shots, "issue-phone-preview-390.png") });
    await page.setViewportSize({ width: 1280, height: 900 });
    await context.close();
  }, 90_000);

  it("test-sends to a staff address, then sends with the count typed and watches the bar reach done", async () => {
    const context = await adminContext();
    const page = await context.newPage();
    await page.goto(issueUrl);
    await page.fill("#to", "proof@staff.test");
    await page.click("form[action$='/test'] button[type=submit]");
    await page.waitForURL(/\/admin\/sends\//);
    const test = await mailTo("proof@staff.test");
    expect(test.subject).toContain("日米ダイジェスト 9.1");
    expect(test.subject).toMatch(/^\[TEST\] /);
    expect(smtp.messages.filter((m) => m.to.some((t) => t.endsWith("@readers.test")))).toHaveLength(0);

    await page.goto(issueUrl);
    expect(await page.inputValue("#to")).toBe("proof@staff.test");
    const count = (await page.textContent("#active-readers"))?.trim() ?? "";
    expect(count).toBe("5");
    await page.fill("#confirm", "4");
    await page.click("form[action$='/send'] button[type=submit]");
    expect(await page.textContent(".notice.bad")).toMatch(/Nothing was sent/);
    expect(smtp.messages.filter((m) => m.to.some((t) => t.endsWith("@readers.test")))).toHaveLength(0);

    await page.fill("#confirm", count);
    await page.click("form[action$='/send'] button[type=submit]");
    await page.waitForURL(/\/admin\/sends\/[0-9a-f-]{36}$/);
    // The page follows the event stream and shows the finished report when the send is done.
    await page.waitForSelector("#finished[data-status=done]", { state: "attached", timeout: 30_000 });
    expect(await page.textContent("#status")).toBe("done");
    expect(await page.textContent("#share")).toBe("100%");
    expect(await page.textContent("[data-count=sent]")).toBe("4");
    expect(await page.textContent("[data-count=bounced]")).toBe("1");
    expect(await page.$("form[action$='/pause']")).toBeNull();
    expect(await page.textContent("#live")).toContain("gone@readers.test");
    expect(await page.textContent("#live")).toMatch(/no such user/);
    await snap(page, "send");
    await page.goto(`${base}/admin`);
    await snap(page, "overview");
    await page.goto(`${base}/admin/bounces`);
    expect(await page.textContent("main")).toContain("gone@readers.test");
    await context.close();
  }, 90_000);

  // The last two change nothing the other reads (a reader's status; a new editor who sends
  // nothing), so they run side by side.
  it.concurrent("finds a reader and unsubscribes them", async ({ expect }) => {
    const context = await adminContext();
    const page = await context.newPage();
    await page.goto(`${base}/admin/subscribers`);
    await page.fill("#q", "reader3");
    await page.click("form[method=get] button");
    expect(await page.$$eval("tbody tr", (rows) => rows.length)).toBe(1);
    await page.click("form[action='/admin/subscribers/unsubscribe'] button");
    expect(await page.textContent(".notice.ok")).toContain("Reader unsubscribed");
    const [row] = await database.query<{ status: string }>(
      sql`select status from subscribers where email = 'reader3@readers.test'`,
    );
    expect(row?.status).toBe("unsubscribed");
    await page.goto(`${base}/admin/subscribers`);
    await snap(page, "subscribers");
    await page.goto(`${base}/admin/staff`);
    await snap(page, "staff");
    await page.goto(`${base}/admin/audit`);
    expect(await page.textContent("main")).toContain("subscriber.unsubscribe");
    await context.close();
  }, 90_000);

  it.concurrent("shows an editor no send form and answers 403 on sending and on the subscriber list", async ({
    expect,
  }) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(await setupLink("writer@staff.test", "editor"));
    await page.fill("#password", password);
    await page.fill("#repeat", password);
    await page.click("button[type=submit]");
    await signIn(page, "writer@staff.test");
    expect(await page.$$eval("nav a", (links) => links.map((a) => a.textContent))).toEqual([
      "Overview",
      "Issues",
    ]);
    const res = await page.goto(`${base}/admin/subscribers`);
    expect(res?.status()).toBe(403);
    await page.goto(issueUrl);
    expect(await page.$("#confirm")).toBeNull();
    const sendsBefore = await database.query(sql`select 1 from sends`);
    // With the session's own CSRF token, as a hand-made form would post it.
    const status = await page.evaluate<number>(`(async () => {
      const csrf = document.querySelector("input[name=csrf]").value;
      const body = new URLSearchParams({ csrf, confirm: "4" });
      return (await fetch(${JSON.stringify(issueUrl)} + "/send", { method: "POST", body })).status;
    })()`);
    expect(status).toBe(403);
    expect(await database.query(sql`select 1 from sends`)).toHaveLength(sendsBefore.length);
    await context.close();
  }, 90_000);
});

async function signIn(page: Page, email: string) {
  await page.goto(`${base}/admin/login`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/admin`);
}
