import { mkdirSync } from "node:fs";
import { expect, it } from "vitest";
import { saveIssue } from "../../src/issues/store.js";
import { addStaff, setPasswordFromLink } from "../../src/staff/accounts.js";
import { cliActor } from "../../src/staff/audit.js";
import { createSession } from "../../src/staff/sessions.js";
import { exampleIssue, newsletter } from "../sending/harness.js";
import { type Hit, mimecast, record, seedSend } from "../tracking/factories.js";
import { openSite } from "./site.js";

/**
 * The console's send page with a tracked send: the Readership card and the plot over the last
 * issues, in Chromium at 1280 and 390 px (screenshots in SHOTS_DIR, default /tmp/shots/report).
 */
const shots = process.env.SHOTS_DIR ?? "/tmp/shots/report";
mkdirSync(shots, { recursive: true });
const { base, service, browser } = await openSite({ worker: false });
const { database } = service;

/** Eight issues a week apart; in each, a few readers click one or two stories, and a scanner clicks everything. */
async function seedIssues(): Promise<string> {
  let last = "";
  for (let n = 1; n <= 8; n++) {
    const source = exampleIssue.replace('volume: "2.6"', `volume: "3.${n}"`);
    const { issue } = await saveIssue(database.db, source, newsletter);
    const sentAt = new Date(Date.now() - (9 - n) * 7 * 86_400_000);
    const send = await seedSend(database, { readers: 20, sentAt, issueId: issue.id });
    const people = 2 + ((n * 5) % 9);
    const hits: Hit[] = [];
    for (let i = 0; i < people; i++)
      hits.push({ delivery: send.deliveries[i] ?? 0, linkNo: 1 + (i % 3), after: 3600 + i * 600 });
    hits.push({ delivery: send.deliveries[19] ?? 0, linkNo: 1, after: 1, userAgent: mimecast });
    hits.push({
      delivery: send.deliveries[18] ?? 0,
      kind: "open",
      after: 1,
      ip: "17.1.2.3",
      userAgent: "Mozilla/5.0",
    });
    hits.push({ delivery: send.deliveries[0] ?? 0, kind: "open", after: 1800 });
    await record(database, send, hits);
    last = send.sendId;
  }
  return last;
}

it("the send page shows the Readership card and the plot of people who clicked per issue", async () => {
  const sendId = await seedIssues();
  const { token } = await addStaff(database.db, cliActor, { email: "chief@staff.test", role: "admin" });
  const account = await setPasswordFromLink(database.db, token, "a long and sensible passphrase");
  const cookie = await createSession(database.db, account);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ name: "digest_session", value: cookie, url: base }]);
  const page = await context.newPage();
  await page.goto(`${base}/admin/sends/${sendId}`);
  const card = page.locator("#readership");
  expect(await card.locator("h2").textContent()).toBe("Readership");
  // The eighth issue: 2 + 40 % 9 = 6 people over 20 delivered.
  expect(await card.locator("[data-readership=human-clickers]").textContent()).toBe("6");
  expect(await card.locator("[data-readership=rate]").textContent()).toBe("30.0%");
  expect(await card.locator("[data-readership=opens-machine]").textContent()).toBe("1");
  expect(await card.locator("svg.plot").getAttribute("role")).toBe("img");
  expect(await card.locator("svg.plot title#plot-title").textContent()).toBe("People who clicked, per issue");
  expect(await card.locator("svg.plot rect").count()).toBe(8);
  expect(await card.locator("table.visually-hidden tbody tr").count()).toBe(8);
  expect(await card.locator("svg.plot rect.this").count()).toBe(1);
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow, `overflows at ${width} px`).toBeLessThanOrEqual(0);
    await card.screenshot({ path: `${shots}/readership-card-${width}.png` });
    await page.screenshot({ path: `${shots}/send-page-${width}.png`, fullPage: true });
  }
  await context.close();
}, 120_000);
