import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { gmailClipBytes } from "../../src/issues/lint.js";
import { saveIssue } from "../../src/issues/store.js";
import { startSend } from "../../src/sending/plan.js";
import { setReaderTracking } from "../../src/tracking/opt-out.js";
import { createTestDatabase } from "../helpers/db.js";
import { type CapturedMessage, type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import {
  addReaders,
  identity,
  newsletter,
  type Pipeline,
  pipeline,
  sendStatusOf,
  waitUntil,
} from "../sending/harness.js";
import { trackingApp } from "./app.js";
import { linkedIssue, sharedSource, sources } from "./linked-issue.js";

/** Counts message builds: a send's message is built once (twice with tracking: plain and tracked). */
const builds = vi.hoisted(() => ({ count: 0 }));
vi.mock("../../src/sending/template.js", async (original) => {
  const real = await original<typeof import("../../src/sending/template.js")>();
  return {
    ...real,
    buildTemplate: (...args: Parameters<typeof real.buildTemplate>) => {
      builds.count++;
      return real.buildTemplate(...args);
    },
  };
});

const publicUrl = identity.publicUrl;
const database = await createTestDatabase();
const { app, recorder } = await trackingApp(database);
const readers = 12;
let smtp: SmtpCapture;
let pipe: Pipeline;
let issueId: string;
let optedOut: string;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  // Three batch jobs of four readers: the message must still be built once for all of them.
  pipe = await pipeline(database, smtp.url, { batchSize: 4 });
  issueId = (await saveIssue(database.db, linkedIssue(publicUrl), newsletter)).issue.id;
  await addReaders(database, readers);
  const [reader] = await database.query<{ id: string }>(
    sql`select id from subscribers where email = 'r3@readers.test'`,
  );
  optedOut = reader!.id;
  await setReaderTracking(database.db, optedOut, false);
  await pipe.startWorker({ trackClicks: true, trackOpens: true });
});
afterAll(async () => {
  await pipe.close();
  await smtp.close();
});

const hrefs = (html: string) =>
  [...html.matchAll(/<a\b[^>]*?\shref="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, "&"));
const textLinks = (text: string) => [...text.matchAll(/^\[\d+\] (\S+)$/gm)].map((m) => m[1]!);
const tracked = new RegExp(`^${publicUrl.replace(/[.]/g, "\\.")}/r/[A-Za-z0-9_-]+$`);
const ownPage = new RegExp(`^${publicUrl.replace(/[.]/g, "\\.")}/(?:archive|manage|unsubscribe)/`);
const storyUrls = new Set<string>([...sources.map((s) => new URL(s).href), sharedSource]);

async function messageTo(email: string): Promise<{ raw: Buffer; html: string; text: string }> {
  const captured = smtp.messages.find((m: CapturedMessage) => m.to.includes(email));
  if (!captured) throw new Error(`no message to ${email}`);
  const mail = await simpleParser(captured.raw);
  return { raw: captured.raw, html: String(mail.html), text: mail.text ?? "" };
}

/** Follows a `/r/` link through the app; answers where it leads. */
async function follow(url: string, method = "GET"): Promise<Response> {
  return app.request(url.slice(publicUrl.length), {
    method,
    headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0" },
  });
}

describe("a send with TRACK_CLICKS and TRACK_OPENS on", () => {
  let sendId: string;

  it("is built once for all its readers: the per-reader work is a splice", async () => {
    builds.count = 0;
    sendId = (await startSend(pipe.plan, { issueId })).sendId;
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 30_000, "the send");
    expect(smtp.messages).toHaveLength(readers);
    // The plain message and the tracked one, whatever the number of readers.
    expect(builds.count).toBe(2);
  });

  it("makes every link of the HTML and the text a /r/ link, except mailto, unsubscribe, manage and archive", async () => {
    const { html, text } = await messageTo("r0@readers.test");
    const htmlLinks = hrefs(html);
    expect(htmlLinks.filter((h) => h.startsWith("mailto:"))).toEqual(["mailto:egulum@spfusa.org"]);
    expect(htmlLinks.filter((h) => ownPage.test(h)).map((h) => new URL(h).pathname.split("/")[1])).toEqual(
      expect.arrayContaining(["archive", "manage", "unsubscribe"]),
    );
    const rest = htmlLinks.filter((h) => !h.startsWith("mailto:") && !h.startsWith("#") && !ownPage.test(h));
    expect(rest.length).toBeGreaterThanOrEqual(sources.length + 2 + 4);
    for (const href of rest) expect(href).toMatch(tracked);
    for (const url of storyUrls) expect(html).not.toContain(url);
    const refs = textLinks(text).filter((h) => /^https?:/.test(h) && !ownPage.test(h));
    expect(refs.length).toBeGreaterThanOrEqual(sources.length + 1 + 4);
    for (const ref of refs) expect(ref).toMatch(tracked);
    expect(textLinks(text)).toContain("mailto:egulum@spfusa.org");
    expect(textLinks(text).some((h) => h.startsWith(`${publicUrl}/unsubscribe/`))).toBe(true);
    // The open pixel is last in the body, 1x1, and screen readers skip it.
    expect(html).toMatch(
      new RegExp(
        `<img src="${publicUrl.replace(/[.]/g, "\\.")}/o/[A-Za-z0-9_-]+\\.gif" width="1" height="1" alt="" style="display:block;border:0"></body>`,
      ),
    );
    // The canary: in the HTML, hidden from people; not in the text.
    expect(html).toMatch(
      /<a href="[^"]+\/r\/[A-Za-z0-9_-]+" aria-hidden="true" tabindex="-1" style="display:none;[^"]*"><\/a>/,
    );
  });

  it("leads each /r/ link, by GET and by HEAD, to the URL it replaced, and each pixel to a GIF", async () => {
    const { html, text } = await messageTo("r1@readers.test");
    const reached = new Set<string>();
    for (const href of new Set([...hrefs(html), ...textLinks(text)].filter((h) => tracked.test(h)))) {
      const got = await follow(href);
      expect(got.status).toBe(302);
      expect(got.headers.get("cache-control")).toBe("no-store");
      expect(got.headers.get("referrer-policy")).toBe("no-referrer");
      reached.add(got.headers.get("location")!);
      expect((await follow(href, "HEAD")).status).toBe(302);
    }
    for (const url of storyUrls) expect(reached).toContain(url);
    // Only the issue's own links, and the canary's harmless home page.
    const allowed = new Set([
      ...storyUrls,
      `${publicUrl}/`,
      ...newsletter.social.map((s) => s.url),
      "https://spfusa.org/wp-content/uploads/2023/04/US-Japan-Alliance-Digest-Vol-2.6.pdf",
    ]);
    for (const url of reached) expect(allowed).toContain(url);
    const pixel = /src="([^"]+\/o\/[^"]+\.gif)"/.exec(html)![1]!;
    const image = await follow(pixel);
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/gif");
    expect((await image.arrayBuffer()).byteLength).toBe(43);
  });

  it("records each request as one event with its delivery, link, method, address and agent", async () => {
    await recorder.settled();
    const events = await database.query<{
      kind: string;
      method: string;
      link_no: number | null;
      email: string;
      ip: string;
      user_agent: string;
    }>(
      sql`select e.kind, e.method, e.link_no, s.email, e.ip, e.user_agent from tracking_events e
          join deliveries d on d.id = e.delivery_id join subscribers s on s.id = e.subscriber_id
          where e.send_id = ${sendId}`,
    );
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.email))).toEqual(new Set(["r1@readers.test"]));
    expect(new Set(events.map((e) => e.method))).toEqual(new Set(["GET", "HEAD"]));
    expect(events.filter((e) => e.kind === "open")).toHaveLength(1);
    expect(events.every((e) => e.ip === "192.0.2.1" && e.user_agent.startsWith("Mozilla/5.0"))).toBe(true);
    const stories = await database.query<{ story_anchor: string | null; url: string }>(
      sql`select story_anchor, url from send_links where send_id = ${sendId} and url = ${sharedSource} order by link_no`,
    );
    // The same source in two stories is two links: a click counts for the story it was in.
    expect(stories).toHaveLength(2);
    expect(stories[0]!.story_anchor).not.toBe(stories[1]!.story_anchor);
  });

  it("keeps every message under Gmail's 102 KB clip", () => {
    for (const m of smtp.messages) expect(m.raw.length).toBeLessThan(gmailClipBytes);
  });

  it("mails a reader who turned tracking off plain links and no pixel", async () => {
    const { html, text } = await messageTo("r3@readers.test");
    expect(html).not.toMatch(/\/r\/|\/o\//);
    expect(text).not.toMatch(/\/r\/|\/o\//);
    for (const url of storyUrls) expect(html.replace(/&amp;/g, "&")).toContain(url);
  });

  it("never puts tracking in the archive's web version or PDF", async () => {
    const [issue] = await database.query<{ slug: string }>(
      sql`select slug from issues where id = ${issueId}`,
    );
    const web = await app.request(`/archive/${issue!.slug}`);
    expect(web.status).toBe(200);
    const page = await web.text();
    expect(page).toContain(sources[0].replace(/&/g, "&amp;"));
    expect(page).not.toMatch(/\/r\/|\/o\/|digest_link|digest_open/);
    const pdf = await app.request(`/archive/${issue!.slug}.pdf`);
    expect(pdf.status).toBe(200);
    const bytes = Buffer.from(await pdf.arrayBuffer()).toString("latin1");
    // Its links are the plain ones (the same footer link is a /r/ link in tracked mail).
    expect(bytes).toContain("https://www.facebook.com/SasakawaUSA");
    expect(bytes).not.toMatch(/\/r\/[A-Za-z0-9_-]{14}|\/o\/[A-Za-z0-9_-]{14}|digest_link/);
  });
});
