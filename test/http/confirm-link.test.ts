import { createHash } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { subscribers } from "../../src/db/schema.js";
import { createApp } from "../../src/http/app.js";
import { signSubscriberToken } from "../../src/subscribers/tokens.js";
import { form, linkIn, parsed, secret, startService } from "./harness.js";

const service = await startService();
const { app, database, smtp } = service;

const rowOf = async (email: string) =>
  (await database.db.select().from(subscribers).where(eq(subscribers.email, email)))[0];

/** Subscribes through the form and returns the path of the link in the confirmation mail. */
async function mailedConfirmPath(email: string): Promise<string> {
  expect((await app.request("/subscribe", form({ email }))).status).toBe(202);
  const find = () =>
    smtp.messages.find((m) => m.to.includes(email) && String(m.raw).includes("Subject: Confirm"));
  await expect.poll(() => find() !== undefined, { timeout: 15_000 }).toBe(true);
  const mail = await parsed(find()!);
  return new URL(linkIn(mail.text ?? "", "http://localhost:3000/confirm/")).pathname;
}

async function pendingReader(email: string): Promise<string> {
  const [row] = await database.query<{
    id: string;
  }>(sql`insert into subscribers (email, status, consent_source)
    values (${email}, 'pending', 'web') returning id`);
  return row!.id;
}

/** Every way a machine fetches a link without a person asking for the action. */
const machineFetches: Array<[string, RequestInit]> = [
  ["a GET", {}],
  ["a HEAD", { method: "HEAD" }],
  ["a prefetch (Sec-Purpose: prefetch)", { headers: { "Sec-Purpose": "prefetch" } }],
  ["a prerender (Sec-Purpose: prefetch;prerender)", { headers: { "Sec-Purpose": "prefetch;prerender" } }],
  ["a prefetch (Purpose: prefetch)", { headers: { Purpose: "prefetch" } }],
  ["a prefetch (X-Moz: prefetch)", { headers: { "X-Moz": "prefetch" } }],
];

describe("the confirmation link, fetched by a link scanner", () => {
  it("leaves the reader pending after a GET, a HEAD and every kind of prefetch, and sends no welcome", async () => {
    const confirmPath = await mailedConfirmPath("scanned@example.org");
    for (const [what, init] of machineFetches) {
      const res = await app.request(confirmPath, init);
      expect(res.status, what).toBe(200);
      expect((await rowOf("scanned@example.org"))?.status, what).toBe("pending");
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.messages.filter((m) => String(m.raw).includes("Subject: Welcome"))).toHaveLength(0);
  });

  it("shows a page with one button, a POST form to the same path", async () => {
    const confirmPath = await mailedConfirmPath("looking@example.org");
    const res = await app.request(confirmPath);
    expect(res.headers.get("location")).toBeNull();
    const body = await res.text();
    expect(body.match(/<form /g)).toHaveLength(1);
    expect(body.match(/<button /g)).toHaveLength(1);
    expect(body).toContain(`<form id="confirm" method="post" action="${confirmPath}">`);
    expect(body).toContain('<button type="submit">Confirm my subscription</button>');
  });

  it("changes nothing on a POST marked as a prefetch: it answers the page with the button", async () => {
    const confirmPath = await mailedConfirmPath("prefetched-post@example.org");
    for (const purpose of ["prefetch", "prefetch;prerender"]) {
      const res = await app.request(confirmPath, { method: "POST", headers: { "Sec-Purpose": purpose } });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("Confirm my subscription</button>");
    }
    expect((await rowOf("prefetched-post@example.org"))?.status).toBe("pending");
  });
});

describe("the confirmation button", () => {
  it("confirms on POST with the confirming client's address, and answers 200 with the confirmed page, no redirect", async () => {
    const confirmPath = await mailedConfirmPath("pressed@example.org");
    const byClient = await createApp({ ...service.deps, clientIp: () => "203.0.113.77" });
    const res = await byClient.request(confirmPath, { method: "POST" });
    expect(res.status).toBe(200);
    expect(res.headers.get("location")).toBeNull();
    const body = await res.text();
    expect(body).toContain("<h1>Subscription confirmed</h1>");
    expect(body).not.toContain("<form");
    expect(await rowOf("pressed@example.org")).toMatchObject({
      status: "active",
      confirmedIp: "203.0.113.77",
    });

    // The link seen again once confirmed says so, with nothing to press.
    const again = await app.request(confirmPath);
    expect(await again.text()).toContain("You are subscribed");
  });

  it("answers a 404 page and changes nothing for an expired link or one whose reader is gone", async () => {
    const id = await pendingReader("late@example.org");
    const expired = `/confirm/${signSubscriberToken(secret, "confirm", id, Date.now() - 8 * 24 * 3600_000)}`;
    const nobody = `/confirm/${signSubscriberToken(secret, "confirm", "00000000-0000-4000-8000-000000000001")}`;
    // Another purpose's token is no confirmation link either.
    const manage = `/confirm/${signSubscriberToken(secret, "manage", id)}`;
    for (const path of [expired, nobody, manage]) {
      for (const method of ["GET", "POST"]) {
        const res = await app.request(path, { method });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.headers.get("content-type")).toContain("text/html");
        expect(res.headers.get("cache-control")).toBe("no-store");
      }
    }
    expect((await rowOf("late@example.org"))?.status).toBe("pending");
  });
});

describe("the confirmation page's script", () => {
  it("is the only script the page's CSP lets run, named by its hash", async () => {
    const id = await pendingReader("csp@example.org");
    const res = await app.request(`/confirm/${signSubscriberToken(secret, "confirm", id)}`);
    const csp = res.headers.get("content-security-policy") ?? "";
    const scripts = [...(await res.text()).matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
    expect(scripts).toHaveLength(1);
    const hash = createHash("sha256").update(scripts[0]!).digest("base64");
    const directives = csp.split(";").map((d) => d.trim());
    expect(directives.find((d) => d.startsWith("script-src"))).toBe(`script-src 'sha256-${hash}'`);
    expect(directives).toContain("default-src 'none'");
    expect(directives).toContain("frame-ancestors 'none'");
    // The other token pages run no script at all.
    const manage = await app.request(`/manage/${signSubscriberToken(secret, "manage", id)}`);
    expect(manage.headers.get("content-security-policy")).not.toContain("script-src");
  });
});
