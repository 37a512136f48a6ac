import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";
import { bearer, startService } from "./harness.js";

const { app } = await startService({ worker: false });

describe("the admin API", () => {
  it("answers 401 without the bearer token, or with a wrong one", async () => {
    expect((await app.request("/api/subscribers")).status).toBe(401);
    const wrong = await app.request("/api/subscribers", {
      headers: { Authorization: "Bearer nope-nope-nope-nope" },
    });
    expect(wrong.status).toBe(401);
  });

  it("imports a streamed CSV whole or not at all, names bad rows by line and value, and lists them with paging", async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `r${i}@example.org,R${i}`);
    const post = (csv: string) =>
      app.request("/api/subscribers/import", {
        method: "POST",
        headers: { ...bearer, "Content-Type": "text/csv" },
        body: csv,
      });
    const refused = await post(["email,name", ...rows, "broken,x"].join("\n"));
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({
      imported: 0,
      invalidRows: 1,
      errors: [{ line: 32, value: "broken" }],
    });
    const res = await post(["email,name", ...rows].join("\n"));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ imported: 30, skipped: 0, invalidRows: 0 });
    const page = await app.request("/api/subscribers?limit=10&offset=10&status=active", { headers: bearer });
    const body = (await page.json()) as {
      subscribers: { email: string }[];
      total: number;
      nextOffset: number;
    };
    expect(body.total).toBe(30);
    expect(body.subscribers).toHaveLength(10);
    expect(body.nextOffset).toBe(20);
    const search = await app.request("/api/subscribers?q=r29%40", { headers: bearer });
    expect(((await search.json()) as { total: number }).total).toBe(1);
    expect((await app.request("/api/subscribers?limit=abc", { headers: bearer })).status).toBe(400);
  });

  it("exports CSV as a stream", async () => {
    const res = await app.request("/api/subscribers/export", { headers: bearer });
    expect(res.headers.get("content-type")).toContain("text/csv");
    const lines = (await res.text()).trim().split("\n");
    expect(lines[0]).toMatch(/^email,name,status/);
    expect(lines).toHaveLength(31);
  });

  it("creates an issue from Markdown and previews it for a sample reader", async () => {
    const markdown = readFileSync(join(repoRoot, "examples/issues/vol-2-6.md"), "utf8");
    const created = await app.request("/api/issues", {
      method: "POST",
      headers: { ...bearer, "Content-Type": "text/markdown" },
      body: markdown,
    });
    expect(created.status).toBe(201);
    const { id, slug } = (await created.json()) as { id: string; slug: string };
    expect(slug).toBe("vol-2-6");
    const preview = await app.request(`/api/issues/${id}/preview`, { headers: bearer });
    const html = await preview.text();
    expect(html).toContain("reader@example.com");
    expect(html).not.toContain("{{digest_");
    const broken = await app.request("/api/issues", {
      method: "POST",
      headers: { ...bearer, "Content-Type": "text/markdown" },
      body: "no front matter",
    });
    expect(broken.status).toBe(400);
  });
});
