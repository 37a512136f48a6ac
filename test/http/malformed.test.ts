import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bearer, startService } from "./harness.js";

const { app, smtp } = await startService();

const paths = [
  "/subscribe",
  "/confirm/",
  "/unsubscribe/",
  "/manage/",
  "/api/subscribers",
  "/api/subscribers/import",
  "/api/issues",
  "/nope",
  "/archive/",
];
const contentTypes = [
  "application/json",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "text/csv",
  "text/plain",
  "application/xml",
  "",
];
const evilAddresses = [
  "a@b.com\r\nBcc: victim@example.org",
  "a@b.com\nBcc: x@y.z",
  "Bcc: x@y.z",
  `${"a".repeat(290)}@example.org`,
  "a\u0000@example.org",
  '"Name, with comma" <a@b.com>',
  "مريم@مثال.إختبار",
  "a@b@c",
  "",
];
const evilNames = [
  "Bcc: x@y.z\r\nSubject: hi",
  "\u202Eevil\u202C",
  "مريم",
  "<script>alert(1)</script>",
  "x".repeat(500),
];

const request = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE"),
  path: fc.constantFrom(...paths),
  suffix: fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[a-z2-7]{0,60}$/)),
  contentType: fc.constantFrom(...contentTypes),
  body: fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.json().map((j) => j),
    fc
      .record({
        email: fc.oneof(fc.constantFrom(...evilAddresses), fc.string()),
        name: fc.constantFrom(...evilNames),
      })
      .map((r) => JSON.stringify(r)),
    fc
      .record({ email: fc.constantFrom(...evilAddresses), name: fc.constantFrom(...evilNames) })
      .map((r) => new URLSearchParams(r).toString()),
  ),
  auth: fc.boolean(),
});

describe("bad input of every kind", () => {
  it("gets a 4xx, never a 5xx, across 1,000 generated malformed requests", async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = r.auth ? { ...bearer } : {};
        if (r.contentType) headers["Content-Type"] = r.contentType;
        let url = `${r.path}${r.path.endsWith("/") ? encodeURIComponent(r.suffix) : ""}`;
        if (url.length === 0) url = "/";
        const res = await app.request(url, {
          method: r.method,
          headers,
          body: r.method === "GET" ? undefined : r.body,
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `${r.method} ${url} ${r.contentType} ${r.body.slice(0, 80)}`).toBeLessThan(500);
      }),
      { numRuns: 1000 },
    );
    expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);
  });

  it("refuses a 10 MB body with 413", async () => {
    const big = "x".repeat(10 * 1024 * 1024);
    const res = await app.request("/subscribe", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `email=${big}`,
    });
    expect(res.status).toBe(413);
  });

  it("refuses malformed JSON, a wrong content type and an unknown route with a short message", async () => {
    const badJson = await app.request("/subscribe", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"email": ',
    });
    expect(badJson.status).toBe(400);
    const wrongType = await app.request("/subscribe", {
      method: "POST",
      headers: { "Content-Type": "text/xml" },
      body: "<a/>",
    });
    expect(wrongType.status).toBe(415);
    expect((await app.request("/no/such/route")).status).toBe(404);
  });

  it("lets no header into any mail: every address that reached the SMTP server is a bare one", async () => {
    await new Promise((r) => setTimeout(r, 1000));
    for (const message of smtp.messages) {
      expect(message.to).toHaveLength(1);
      const head = String(message.raw).split("\r\n\r\n")[0] ?? "";
      expect(head).not.toMatch(/^Bcc:/im);
      expect(head).not.toMatch(/^To: .*[<"]/m);
    }
  });
});
