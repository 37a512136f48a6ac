import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { subscribers } from "../../src/db/schema.js";
import { linkIn, parsed } from "../http/harness.js";
import { openSite } from "./site.js";

const { base, service, browser } = await openSite();

const statusOf = async (email: string) =>
  (await service.database.db.select().from(subscribers).where(eq(subscribers.email, email)))[0]?.status;

async function mailTo(address: string, subject: string) {
  const find = () =>
    service.smtp.messages.find(
      (m) => m.to.includes(address) && String(m.raw).includes(`Subject: ${subject}`),
    );
  await expect.poll(() => find() !== undefined, { timeout: 15_000 }).toBe(true);
  return parsed(find()!);
}

describe("a reader in a real browser", () => {
  it("subscribes with the form, confirms by the mailed link, and leaves with the unsubscribe button", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.fill("#email", "browser@example.org");
    await page.fill("#name", "Brows Er");
    await page.click("button[type=submit]");
    await expect.poll(() => page.textContent("h1")).toBe("Check your inbox");
    expect(await statusOf("browser@example.org")).toBe("pending");

    const confirmMail = await mailTo("browser@example.org", "Confirm");
    // The link's page presses its own button once shown (SPEC §4: the GET itself changes nothing).
    await page.goto(linkIn(confirmMail.text ?? "", `${base}/confirm/`));
    await page.locator("h1", { hasText: "Subscription confirmed" }).waitFor();
    expect(await statusOf("browser@example.org")).toBe("active");

    const welcome = await mailTo("browser@example.org", "Welcome");
    await page.goto(linkIn(welcome.text ?? "", `${base}/unsubscribe/`));
    expect(await statusOf("browser@example.org")).toBe("active");
    await page.click("button[type=submit]");
    await expect.poll(() => page.textContent("h1")).toBe("Unsubscribed");
    expect(await statusOf("browser@example.org")).toBe("unsubscribed");
    expect(await page.context().cookies()).toEqual([]);
  });

  it("answers a 10 MB body with 413 over a real socket without leaving the client hanging", async () => {
    const started = Date.now();
    const res = await fetch(`${base}/subscribe`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `email=${"x".repeat(10 * 1024 * 1024)}`,
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(413);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
