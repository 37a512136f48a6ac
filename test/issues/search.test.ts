import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.js";
import { archiveStories, issues } from "../../src/db/schema.js";
import { createApp } from "../../src/http/app.js";
import { memoryRateLimiter } from "../../src/http/request.js";
import { searchArchive } from "../../src/issues/search.js";
import { saveIssue } from "../../src/issues/store.js";
import { loadNewsletter } from "../../src/newsletter.js";
import { repoRoot } from "../helpers/cli.js";
import { createEmbeddedDatabase, createTestDatabase } from "../helpers/db.js";

const newsletter = loadNewsletter("newsletter.yaml", repoRoot);
const fixture = (name: string) =>
  readFileSync(join(repoRoot, "test/issues/fixtures/search", `${name}.md`), "utf8");

/** Three issues that went out and one draft, on the database under test, and the app over it. */
async function archiveOn(database: Database) {
  const { db } = database;
  for (const name of ["vol-30-1", "vol-30-2", "vol-30-3"]) {
    const { issue } = await saveIssue(db, fixture(name), newsletter);
    await db.update(issues).set({ publishedAt: new Date() }).where(eq(issues.id, issue.id));
  }
  await saveIssue(db, fixture("vol-30-4"), newsletter);
  return { db, app: await appOn(db) };
}

/** The public app over `db`, allowing each client `searchesPerClient` searches a minute. */
function appOn(db: Database["db"], searchesPerClient = 1000) {
  return createApp({
    db,
    notify: async () => {},
    secret: "test-secret-0123456789abcdef-0123456789",
    newsletter,
    publicUrl: "https://digest.example",
    limiter: memoryRateLimiter({ limit: 1000, windowSeconds: 60 }),
    pageLimiter: memoryRateLimiter({ limit: searchesPerClient, windowSeconds: 60 }),
    clientIp: () => "192.0.2.1",
    log: pino({ level: "silent" }),
  });
}

const links = (found: Awaited<ReturnType<typeof searchArchive>>) =>
  found.matches.map((m) => `${m.slug}#${m.anchor}`);

describe.each([
  ["PostgreSQL", () => createTestDatabase()],
  ["embedded PGlite", () => createEmbeddedDatabase()],
])("archive search on %s", (_engine, open) => {
  let archive: Awaited<ReturnType<typeof archiveOn>>;
  // Four issues stored with their PDF editions, on an embedded database that is slow to start on a busy machine.
  beforeAll(async () => {
    archive = await archiveOn(await open());
  }, 120_000);

  it("finds a story by an English word, stemmed, with the word marked in its headline", async () => {
    const found = await searchArchive(archive.db, "export controls");
    expect(links(found)).toEqual(["vol-30-1#semiconductor-export-controls-tighten"]);
    expect(found.matches[0]?.headlineHtml).toBe(
      "Semiconductor <mark>export</mark> <mark>controls</mark> tighten",
    );
    expect(links(await searchArchive(archive.db, "drone"))).toEqual(
      expect.arrayContaining([
        "vol-30-3#agreement-reached-on-shared-drone-testing",
        "vol-30-1#coast-guards-of-both-countries-train-together-off-kyushu",
      ]),
    );
  });

  it("finds a Japanese term inside unbroken Japanese text, the story before the issue's subject", async () => {
    const found = await searchArchive(archive.db, "日米");
    expect(links(found)).toEqual(["vol-30-2#story", "vol-30-2#"]);
    expect(found.matches[0]?.headlineHtml).toBe("<mark>日米</mark>首脳会談、同盟の強化で一致");
    expect(found.matches[0]?.snippetHtml).toContain("<mark>日米</mark>同盟の抑止力");
    expect(links(await searchArchive(archive.db, "抑止力"))).toEqual(["vol-30-2#story"]);
    // Four characters in that order, not each bigram anywhere in the story.
    expect(links(await searchArchive(archive.db, "日米同盟"))).toEqual(["vol-30-2#story"]);
    expect(links(await searchArchive(archive.db, "日米抑止"))).toEqual([]);
    // One character: wherever it stands in a run.
    expect(links(await searchArchive(archive.db, "核"))).toEqual(["vol-30-2#story"]);
    expect(links(await searchArchive(archive.db, "首脳 -核"))).toEqual(["vol-30-2#"]);
  });

  it("finds a phrase only where its words stand together", async () => {
    const phrase = await searchArchive(archive.db, '"critical minerals agreement"');
    expect(links(phrase)).toEqual(["vol-30-2#ministers-sign-a-critical-minerals-agreement"]);
    const words = await searchArchive(archive.db, "critical minerals agreement");
    expect(links(words).sort()).toEqual([
      "vol-30-2#ministers-sign-a-critical-minerals-agreement",
      "vol-30-3#agreement-reached-on-shared-drone-testing",
    ]);
  });

  it("ranks a story with the word in its headline above one with it only in its text", async () => {
    const found = await searchArchive(archive.db, "semiconductor");
    expect(links(found)).toEqual([
      "vol-30-1#semiconductor-export-controls-tighten",
      "vol-30-1#coast-guards-of-both-countries-train-together-off-kyushu",
    ]);
    expect(found.total).toBe(2);
  });

  it("never shows a draft", async () => {
    expect((await searchArchive(archive.db, "zeppelin")).matches).toEqual([]);
    const page = await (await archive.app.request("/archive?q=zeppelin")).text();
    expect(page).not.toContain("vol-30-4");
    expect(page).toContain("No stories match");
    const feed = await (await archive.app.request("/feed.xml")).text();
    expect(feed).not.toContain("eppelin");
  });

  it("indexes an issue stored before search existed the first time the archive is searched", async () => {
    const { db } = await open();
    const { issue } = await saveIssue(db, fixture("vol-30-3"), newsletter);
    await db.update(issues).set({ publishedAt: new Date() }).where(eq(issues.id, issue.id));
    await db.delete(archiveStories).where(eq(archiveStories.issueId, issue.id));
    expect(links(await searchArchive(db, "negotiators"))).toEqual([
      "vol-30-3#agreement-reached-on-shared-drone-testing",
    ]);
  }, 120_000);

  it("shows the results as links to the stories' permalinks, the words marked", async () => {
    const res = await archive.app.request("/archive?q=%E6%97%A5%E7%B1%B3");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-robots-tag")).toBe("noindex");
    const page = await res.text();
    expect(page).toContain('<form role="search" method="get" action="/archive">');
    expect(page).toContain('<label for="q">');
    expect(page).toContain('value="日米"');
    expect(page).toContain("2 stories match");
    expect(page).toContain('<a href="/archive/vol-30-2#story"><mark>日米</mark>首脳会談');
    // The permalink's anchor is the story's heading in the web version.
    const issuePage = await (await archive.app.request("/archive/vol-30-2")).text();
    expect(issuePage).toMatch(/<h2[^>]* id="story"/);
    expect(issuePage).toMatch(/<h2[^>]* id="ministers-sign-a-critical-minerals-agreement"/);
  });

  it("escapes the query and the story text: nothing a reader or a writer typed becomes markup", async () => {
    for (const q of ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']) {
      const res = await archive.app.request(`/archive?q=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
      const page = await res.text();
      expect(page).not.toContain("<script>");
      expect(page).not.toContain("<img");
      expect(page).toContain(
        q.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;"),
      );
    }
    const page = await (await archive.app.request("/archive?q=pasted+script")).text();
    expect(page).toContain(
      "A witness <mark>pasted</mark> &lt;<mark>script</mark>&gt;alert(&quot;x&quot;)&lt;/<mark>script</mark>&gt;",
    );
    expect(page).toContain("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;");
    expect(page).not.toMatch(/<script|<img/);
  });

  it("answers odd queries with a page, never an error: syntax, long text, control characters, bad encoding", async () => {
    for (const q of [
      "&|!():*'",
      "!!",
      "a:*",
      "'",
      '"',
      '""',
      "-",
      "or",
      "the",
      "()",
      "\\",
      "%",
      "日",
      "&&日米||",
    ]) {
      const res = await archive.app.request(`/archive?q=${encodeURIComponent(q)}`);
      expect(res.status, q).toBe(200);
    }
    const long = await archive.app.request(`/archive?q=${"drone ".repeat(1000)}`);
    expect(long.status).toBe(200);
    expect(await long.text()).toContain(`value="${"drone ".repeat(34).slice(0, 200).trim()}"`);
    expect((await archive.app.request("/archive?q=drone%00%01")).status).toBe(200);
    expect((await archive.app.request("/archive?q=%E6%97")).status).toBeLessThan(500);
    expect((await archive.app.request("/archive?q=%")).status).toBeLessThan(500);
  });

  it("limits searches per client address, and the archive itself not at all", async () => {
    // Its own app, so its own limiter, over the same archive.
    const app = await appOn(archive.db, 2);
    expect((await app.request("/archive?q=drone")).status).toBe(200);
    expect((await app.request("/archive?q=chips")).status).toBe(200);
    expect((await app.request("/archive?q=drone")).status).toBe(429);
    expect((await app.request("/archive")).status).toBe(200);
  });

  it("shows the archive as before when the query is empty", async () => {
    for (const path of ["/archive", "/archive?q=", "/archive?q=+++"]) {
      const page = await (await archive.app.request(path)).text();
      expect(page).toContain('<a href="/archive/vol-30-3">');
      expect(page).not.toContain("vol-30-4");
      expect(page).not.toContain("match");
    }
  });

  it("carries each issue's full text in the feed, each story's headline linking to its permalink", async () => {
    const feed = await (await archive.app.request("/feed.xml")).text();
    expect(feed).toContain('<content type="html">');
    expect(feed).toContain(
      "&lt;h2&gt;&lt;a href=&quot;https://digest.example/archive/vol-30-2#ministers-sign-a-critical-minerals-agreement&quot;&gt;Ministers sign a critical minerals agreement&lt;/a&gt;&lt;/h2&gt;",
    );
    expect(feed).toContain("両首脳は東京で会談し");
    // The pasted markup is text in the HTML, so escaped twice in the XML.
    expect(feed).toContain("&amp;lt;script&amp;gt;alert(&amp;quot;x&amp;quot;)");
    expect(feed).not.toMatch(/<script|<img|&lt;script/);
    expect(feed.match(/<entry>/g)?.length).toBe(3);
  });
});
