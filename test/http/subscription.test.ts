import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { subscribers, suppressions } from "../../src/db/schema.js";
import { createApp } from "../../src/http/app.js";
import { addressHash } from "../../src/subscribers/suppression.js";
import { bearer, form, json, linkIn, parsed, startService } from "./harness.js";

const service = await startService();
const { app, database, smtp } = service;
const db = database.db;

const rowOf = async (email: string) =>
  (await db.select().from(subscribers).where(eq(subscribers.email, email)))[0];
const path = (url: string) => new URL(url).pathname;
/** What the confirmation page's one button sends (SPEC §4: a GET of the link changes nothing). */
const press = { method: "POST" } as const;

/** The n-th mail (0-based) to an address whose subject starts with `subject`, once it arrives. */
async function mailTo(address: string, subject: string, n = 0) {
  const matching = () =>
    smtp.messages.filter(
      (m) =>
        m.to.some((t) => t.toLowerCase() === address.toLowerCase()) &&
        String(m.raw).includes(`Subject: ${subject}`),
    );
  await expect.poll(() => matching().length, { timeout: 15_000 }).toBeGreaterThan(n);
  return parsed(matching()[n]!);
}

/** Subscribes through the form, waits for the confirmation mail and returns its parsed form. */
async function subscribeAndCatchMail(email: string, name?: string) {
  const res = await app.request("/subscribe", form({ email, ...(name ? { name } : {}) }));
  expect(res.status).toBe(202);
  return mailTo(email, "Confirm");
}

describe("double opt-in on the web", () => {
  it("mails a confirmation link whose button makes the reader active and sends the welcome mail", async () => {
    const mail = await subscribeAndCatchMail("Aiko@Example.ORG", "Aiko");
    expect(mail.to && "text" in mail.to ? mail.to.text : "").toBe("Aiko@example.org");
    expect(mail.subject).toMatch(/^Confirm your subscription/);
    expect(mail.text).not.toContain("Aiko,");
    expect(mail.headers.get("auto-submitted")).toBe("auto-generated");
    expect((await rowOf("Aiko@example.org"))?.status).toBe("pending");

    const confirmUrl = linkIn(mail.text ?? "", "http://localhost:3000/confirm/");
    const page = await app.request(path(confirmUrl), press);
    expect(page.status).toBe(200);
    expect(page.headers.get("location")).toBeNull();
    expect(await page.text()).toContain("You are subscribed");
    const row = await rowOf("Aiko@example.org");
    expect(row).toMatchObject({ status: "active", consentSource: "web", consentIp: "192.0.2.1" });

    const welcome = await mailTo("Aiko@example.org", "Welcome");
    expect(welcome.text).toContain("Welcome, Aiko!");
    const post = welcome.headerLines.find((h) => h.key === "list-unsubscribe-post")?.line;
    expect(post).toBe("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    const listUnsubscribe = welcome.headerLines.find((h) => h.key === "list-unsubscribe")?.line;
    expect(listUnsubscribe).toMatch(
      /^List-Unsubscribe: <http:\/\/localhost:3000\/unsubscribe\/[a-z2-7]+>, <mailto:unsubscribe\+[a-z2-7]+@/,
    );
  });

  it("treats a second press of the confirmation button as harmless", async () => {
    const mail = await subscribeAndCatchMail("twice@example.org");
    const confirmPath = path(linkIn(mail.text ?? "", "http://localhost:3000/confirm/"));
    expect((await app.request(confirmPath, press)).status).toBe(200);
    const again = await app.request(confirmPath, press);
    expect(again.status).toBe(200);
    expect((await rowOf("twice@example.org"))?.status).toBe("active");
  });

  it("answers the same 202 for new, pending, active and suppressed addresses", async () => {
    await db.insert(suppressions).values({ addressHash: addressHash("gone@example.org"), reason: "bounced" });
    const bodies = new Set<string>();
    for (const email of [
      "new-one@example.org",
      "new-one@example.org",
      "Aiko@example.org",
      "gone@example.org",
    ]) {
      const res = await app.request("/subscribe", json({ email }));
      expect(res.status).toBe(202);
      bodies.add(await res.text());
    }
    expect(bodies.size).toBe(1);
    expect(await rowOf("gone@example.org")).toBeUndefined();
  });

  it("sends at most one confirmation mail per address per day", async () => {
    await app.request("/subscribe", form({ email: "eager@example.org" }));
    await app.request("/subscribe", form({ email: "eager@example.org" }));
    await app.request("/subscribe", form({ email: "EAGER@example.org" }));
    await new Promise((r) => setTimeout(r, 500));
    const toEager = smtp.messages.filter((m) => m.to.some((t) => t.toLowerCase() === "eager@example.org"));
    expect(toEager).toHaveLength(1);
  });

  it("keeps the first request's consent record when the address is asked for again, and records the confirming request", async () => {
    const byClient = await createApp({
      ...service.deps,
      clientIp: (c) => c.req.header("x-test-client") ?? "192.0.2.1",
    });
    const from = (client: string, init: RequestInit) =>
      byClient.request("/subscribe", {
        ...init,
        headers: { ...(init.headers as Record<string, string>), "x-test-client": client },
      });
    const first = await from(
      "198.51.100.10",
      json({ email: "consent@example.org", name: "Consenting Reader" }),
    );
    expect(first.status).toBe(202);
    const recorded = await rowOf("consent@example.org");
    expect(recorded).toMatchObject({
      name: "Consenting Reader",
      consentSource: "web",
      consentIp: "198.51.100.10",
    });
    await new Promise((r) => setTimeout(r, 20));

    const second = await from("203.0.113.66", json({ email: "CONSENT@example.org", name: "Someone Else" }));
    expect(second.status).toBe(202);
    expect(await second.text()).toBe(await first.text());
    const kept = await rowOf("consent@example.org");
    expect(kept).toMatchObject({
      status: "pending",
      name: "Consenting Reader",
      consentIp: "198.51.100.10",
      consentAt: recorded?.consentAt,
      confirmedAt: null,
      confirmedIp: null,
    });

    const mail = await mailTo("consent@example.org", "Confirm");
    const confirmPath = path(linkIn(mail.text ?? "", "http://localhost:3000/confirm/"));
    const confirmed = await byClient.request(confirmPath, {
      ...press,
      headers: { "x-test-client": "192.0.2.200" },
    });
    expect(confirmed.status).toBe(200);
    const active = await rowOf("consent@example.org");
    expect(active).toMatchObject({
      status: "active",
      name: "Consenting Reader",
      consentIp: "198.51.100.10",
      consentAt: recorded?.consentAt,
      confirmedIp: "192.0.2.200",
    });
    expect(active?.confirmedAt?.getTime()).toBeGreaterThan(recorded?.consentAt?.getTime() ?? Infinity);
  });

  it("ignores a bot that fills in the honeypot, with the usual answer", async () => {
    const res = await app.request("/subscribe", form({ email: "bot@example.org", website: "http://spam" }));
    expect(res.status).toBe(202);
    expect(await rowOf("bot@example.org")).toBeUndefined();
  });

  it("refuses a tampered confirmation link with a plain 404 page and changes nothing", async () => {
    const mail = await subscribeAndCatchMail("tamper@example.org");
    const good = path(linkIn(mail.text ?? "", "http://localhost:3000/confirm/"));
    // The second-to-last character changed for certain (it may already be an "a").
    const bad = `${good.slice(0, -2)}${good.at(-2) === "a" ? "b" : "a"}${good.slice(-1)}`;
    // A link to nothing: 404, on the page (GET) as on its button (POST).
    for (const init of [undefined, press]) {
      const res = await app.request(bad, init);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toContain("text/html");
    }
    expect((await rowOf("tamper@example.org"))?.status).toBe("pending");
  });
});

describe("unsubscribing", () => {
  async function activeReader(email: string) {
    const mail = await subscribeAndCatchMail(email);
    await app.request(path(linkIn(mail.text ?? "", "http://localhost:3000/confirm/")), press);
    const welcome = await mailTo(email, "Welcome");
    return {
      unsubscribe: path(linkIn(welcome.text ?? "", "http://localhost:3000/unsubscribe/")),
      manage: path(linkIn(welcome.text ?? "", "http://localhost:3000/manage/")),
    };
  }

  it("shows a page with a button on GET and changes nothing", async () => {
    const links = await activeReader("looker@example.org");
    const res = await app.request(links.unsubscribe);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<button type="submit">Unsubscribe</button>');
    expect((await rowOf("looker@example.org"))?.status).toBe("active");
  });

  it("unsubscribes at once on the one-click POST: 200, no cookie, no redirect; a replay is harmless", async () => {
    const links = await activeReader("leaver@example.org");
    const oneClick = {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    };
    const res = await app.request(links.unsubscribe, oneClick);
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(res.headers.get("location")).toBeNull();
    expect((await rowOf("leaver@example.org"))?.status).toBe("unsubscribed");
    await mailTo("leaver@example.org", "You are unsubscribed");
    expect((await app.request(links.unsubscribe, oneClick)).status).toBe(200);
    expect((await rowOf("leaver@example.org"))?.status).toBe("unsubscribed");
    await new Promise((r) => setTimeout(r, 300));
    const goodbyes = smtp.messages.filter((m) => String(m.raw).includes("Subject: You are unsubscribed"));
    expect(goodbyes).toHaveLength(1);
  });

  it("needs a new confirmation to come back after unsubscribing, at most one a day like every confirmation", async () => {
    const links = await activeReader("returner@example.org");
    await app.request(links.unsubscribe, { method: "POST", body: "List-Unsubscribe=One-Click" });
    // A stranger who types the address into the form changes nothing; the answer is the usual one.
    expect((await app.request("/subscribe", form({ email: "returner@example.org" }))).status).toBe(202);
    expect((await rowOf("returner@example.org"))?.status).toBe("unsubscribed");
    const res = await app.request(links.manage, form({ action: "resubscribe" }));
    expect(res.status).toBe(200);
    expect((await rowOf("returner@example.org"))?.status).toBe("pending");
    // The first confirmation went out less than a day ago: no second one yet, however often asked.
    await app.request(links.manage, form({ action: "resubscribe" }));
    await new Promise((r) => setTimeout(r, 500));
    const confirmations = smtp.messages.filter(
      (m) => m.to.includes("returner@example.org") && String(m.raw).includes("Subject: Confirm"),
    );
    expect(confirmations).toHaveLength(1);
    await db
      .update(subscribers)
      .set({ lastConfirmationAt: new Date(Date.now() - 25 * 3600_000) })
      .where(eq(subscribers.email, "returner@example.org"));
    await app.request(links.manage, form({ action: "resubscribe" }));
    const second = await mailTo("returner@example.org", "Confirm", 1);
    await app.request(path(linkIn(second.text ?? "", "http://localhost:3000/confirm/")), press);
    expect((await rowOf("returner@example.org"))?.status).toBe("active");
  });

  it("lets the manage page show the status and change the name, escaped", async () => {
    const links = await activeReader("manager@example.org");
    const page = await app.request(links.manage);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("manager@example.org</span>: subscribed");
    const renamed = await app.request(links.manage, form({ action: "name", name: "<b>مريم</b>" }));
    expect(renamed.status).toBe(200);
    const body = await renamed.text();
    expect(body).toContain("&lt;b&gt;مريم&lt;/b&gt;");
    expect(body).not.toContain("<b>مريم");
    expect((await rowOf("manager@example.org"))?.name).toBe("<b>مريم</b>");
  });
});

describe("GDPR erasure through the admin API", () => {
  it("leaves only the address hash on the suppression list", async () => {
    await app.request("/api/subscribers", {
      ...json({ email: "erase-me@example.org", name: "E", confirmed: true }),
      headers: { ...bearer, "Content-Type": "application/json" },
    });
    expect((await rowOf("erase-me@example.org"))?.status).toBe("active");
    const res = await app.request("/api/subscribers/erase-me@example.org", {
      method: "DELETE",
      headers: bearer,
    });
    expect(await res.json()).toEqual({ erased: true });
    expect(await rowOf("erase-me@example.org")).toBeUndefined();
    const [entry] = await db
      .select()
      .from(suppressions)
      .where(eq(suppressions.addressHash, addressHash("erase-me@example.org")));
    expect(entry).toMatchObject({ reason: "erased", detail: null });
    expect(entry?.addressHash).toMatch(/^[0-9a-f]{64}$/);
    expect((await app.request("/subscribe", json({ email: "erase-me@example.org" }))).status).toBe(202);
    expect(await rowOf("erase-me@example.org")).toBeUndefined();
  });
});
