import { eq } from "drizzle-orm";
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { subscribers } from "../../src/db/schema.js";
import { linkIn, parsed } from "../http/harness.js";
import { openSite } from "./site.js";

const { base, service, browser } = await openSite();

const rowOf = async (email: string) =>
  (await service.database.db.select().from(subscribers).where(eq(subscribers.email, email)))[0];

/** Subscribes through the form and returns the link in the confirmation mail the SMTP server caught. */
async function mailedConfirmLink(email: string): Promise<string> {
  const res = await fetch(`${base}/subscribe`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email }).toString(),
  });
  expect(res.status).toBe(202);
  const find = () =>
    service.smtp.messages.find((m) => m.to.includes(email) && String(m.raw).includes("Subject: Confirm"));
  await expect.poll(() => find() !== undefined, { timeout: 15_000 }).toBe(true);
  return linkIn((await parsed(find()!)).text ?? "", `${base}/confirm/`);
}

/** The methods the browser used on the confirmation path, in order. */
function confirmRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.startsWith("/confirm/")) seen.push(r.method());
  });
  return seen;
}

/**
 * A page that starts hidden (a background tab) or prerendered, as Chromium reports it, with a way
 * to show it: headless Chromium shows every page at once, so the test plays the browser's part.
 */
async function startUnseen(context: BrowserContext, how: "hidden" | "prerendering") {
  const property = how === "hidden" ? "visibilityState" : "prerendering";
  const unseen = how === "hidden" ? '"hidden"' : "true";
  const seen = how === "hidden" ? '"visible"' : "false";
  const event = how === "hidden" ? "visibilitychange" : "prerenderingchange";
  await context.addInitScript({
    content: `(() => {
      let shown = false;
      Object.defineProperty(document, "${property}", { get: () => (shown ? ${seen} : ${unseen}) });
      window.show = () => { shown = true; document.dispatchEvent(new Event("${event}")); };
    })();`,
  });
}

describe("the confirmation link in a real browser", () => {
  it("confirms a reader with JavaScript without a click: the shown page presses its own button", async () => {
    const link = await mailedConfirmLink("scripted@example.org");
    const page = await browser.newPage();
    const methods = confirmRequests(page);
    await page.goto(link);
    await page.locator("h1", { hasText: "Subscription confirmed" }).waitFor({ timeout: 10_000 });
    expect(methods).toEqual(["GET", "POST"]);
    expect(page.url()).toBe(link);
    expect(await rowOf("scripted@example.org")).toMatchObject({ status: "active", confirmedIp: "127.0.0.1" });
    await page.close();
  });

  it("confirms a reader without JavaScript when they press the one button", async () => {
    const link = await mailedConfirmLink("no-script@example.org");
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(link);
    expect(await page.textContent("h1")).toBe("Confirm your subscription");
    await new Promise((r) => setTimeout(r, 500));
    expect((await rowOf("no-script@example.org"))?.status).toBe("pending");
    await page.getByRole("button", { name: "Confirm my subscription" }).click();
    await page.locator("h1", { hasText: "Subscription confirmed" }).waitFor({ timeout: 10_000 });
    expect((await rowOf("no-script@example.org"))?.status).toBe("active");
    await context.close();
  });

  for (const how of ["hidden", "prerendering"] as const) {
    it(`confirms nothing while the page is ${how === "hidden" ? "in a background tab" : "prerendered"}, and confirms once it is shown`, async () => {
      const email = `${how}@example.org`;
      const link = await mailedConfirmLink(email);
      const context = await browser.newContext();
      await startUnseen(context, how);
      const page = await context.newPage();
      const methods = confirmRequests(page);
      await page.goto(link);
      await new Promise((r) => setTimeout(r, 500));
      expect(await page.textContent("h1")).toBe("Confirm your subscription");
      expect(methods).toEqual(["GET"]);
      expect((await rowOf(email))?.status).toBe("pending");
      await page.evaluate("window.show()");
      await page.locator("h1", { hasText: "Subscription confirmed" }).waitFor({ timeout: 10_000 });
      expect((await rowOf(email))?.status).toBe("active");
      await context.close();
    });
  }
});
