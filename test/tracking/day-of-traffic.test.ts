import { type ServerType, serve } from "@hono/node-server";
import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientAddress } from "../../src/http/request.js";
import { saveIssue } from "../../src/issues/store.js";
import { startSend } from "../../src/sending/plan.js";
import { eventRecorder } from "../../src/tracking/record.js";
import { readershipOf } from "../../src/tracking/report.js";
import { trackingLinks } from "../../src/tracking/resolve.js";
import { readToken } from "../../src/tracking/token.js";
import { freePort } from "../helpers/smtp.js";
import { startService } from "../http/harness.js";
import { addReaders, newsletter, pipeline, secret, sendStatusOf, waitUntil } from "../sending/harness.js";

/**
 * A day of traffic against a real server: the Hono app on a port, a send of 200 readers delivered
 * to the in-process SMTP capture with TRACK_CLICKS and TRACK_OPENS on, then
 *  - a mail gateway that, for 30 % of the messages, fetches every link (the canary too) within
 *    seconds of delivery, with HEAD and GET (half the time disguised with a browser's agent);
 *  - Apple's Mail Privacy Protection loading every message's pixel at delivery (an Apple address in
 *    X-Forwarded-For, the server trusting 127.0.0.1 as its proxy);
 *  - people who click one or two stories over the following hours, and some who open in a browser.
 * Hours pass on a simulated clock: between waves every recorded time (deliveries.sent_at and the
 * events' at) moves back by the hours that "passed", so the next wave arrives that much later
 * relative to delivery, without sleeping.
 */
const readers = 200;
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const service = await startService({ publicUrl: base, worker: false });
const { database, smtp } = service;
const sending = await pipeline(database, smtp.url);
const { createApp } = await import("../../src/http/app.js");
// Wired as `digest serve` wires tracking; the recorder is this test's, to wait for its writes.
const links = trackingLinks(database.db, secret);
const recorder = eventRecorder(database.db, links, () => {});
const app = await createApp({
  ...service.deps,
  clientIp: (c) => clientAddress(c, (address) => address === "127.0.0.1" || address === "::ffff:127.0.0.1"),
  tracking: { clicks: true, opens: true, links, recorder },
});
const server: ServerType = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await sending.close();
});

const browser =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const gatewayAgent = "Mimecast URL Protect";
const gatewayIp = "203.0.113.77";
const appleIp = "17.58.63.9";

/** A small seeded generator, so the day is the same every run. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Message {
  deliveryId: number;
  /** Link number to its /r/ path; 0 is the canary. */
  links: Map<number, string>;
  pixel: string;
}

/** Four stories, each with its own links (one story has two), and a link outside any story. */
const issueSource = `---
volume: "4.1"
date: 2026-12-01
subject: "Policy digest 4.1: budget, housing, transit, schools"
---

## The budget, line by line

The committee published [its report](https://example.org/budget/report) on Monday.

## Housing: what changed

The new rules are [here](https://example.org/housing) and the [map](https://example.org/housing/map).

## Transit fares

Fares rise in March, says [the authority](https://example.org/transit).

## Schools

The [enrolment figures](https://example.org/schools) are out.
`;

let sendId = "";
const messages: Message[] = [];
/** link number -> story anchor (null outside any story). */
const storyOf = new Map<number, string | null>();

async function hit(path: string, options: { method?: string; agent: string; ip: string }): Promise<number> {
  const res = await fetch(`${base}${path}`, {
    method: options.method ?? "GET",
    redirect: "manual",
    headers: { "user-agent": options.agent, "x-forwarded-for": options.ip },
  });
  await res.arrayBuffer();
  return res.status;
}

/** Time passes: everything recorded so far happened `hours` earlier. */
async function hoursPass(hours: number) {
  await recorder.settled();
  const shift = `${hours * 3600} seconds`;
  await database.query(
    sql`update deliveries set sent_at = sent_at - ${shift}::interval where send_id = ${sendId}`,
  );
  await database.query(
    sql`update tracking_events set at = at - ${shift}::interval where send_id = ${sendId}`,
  );
}

beforeAll(async () => {
  await addReaders(database, readers);
  const { issue } = await saveIssue(database.db, issueSource, newsletter);
  const issueId = issue.id;
  await sending.startWorker({ trackClicks: true, trackOpens: true });
  sendId = (await startSend(sending.plan, { issueId })).sendId;
  await waitUntil(
    async () => (await sendStatusOf(database, sendId)) === "done",
    60_000,
    "the send to finish",
  );
  for (const captured of smtp.messages) {
    const mail = await simpleParser(captured.raw);
    const body = `${mail.html || ""}\n${mail.text ?? ""}`;
    const links = new Map<number, string>();
    let deliveryId = -1;
    for (const [, token] of body.matchAll(/\/r\/([A-Za-z0-9_-]+)/g)) {
      const claim = token ? readToken("click", token) : undefined;
      if (!claim || claim.linkNo === null) continue;
      links.set(claim.linkNo, `/r/${token}`);
      deliveryId = claim.deliveryId;
    }
    const pixel = /\/o\/([A-Za-z0-9_-]+)\.gif/.exec(body);
    if (pixel) messages.push({ deliveryId, links, pixel: pixel[0] });
  }
  for (const row of await database.query<{ link_no: number; story_anchor: string | null }>(
    sql`select link_no, story_anchor from send_links where send_id = ${sendId}`,
  ))
    storyOf.set(row.link_no, row.story_anchor);
}, 120_000);

describe("a day of traffic on a tracked send", () => {
  const rand = random(19);
  /** The truth: per story, the deliveries whose reader clicked it. */
  const truth = new Map<string, Set<number>>();

  it("every message carries a pixel and a /r/ link per link, the canary included", () => {
    expect(messages).toHaveLength(readers);
    expect(messages.every((m) => m.links.has(0) && m.links.size === storyOf.size)).toBe(true);
    expect([...storyOf.values()].filter((s) => s !== null).length).toBeGreaterThan(2);
  });

  it("plays the day: gateway and proxy at delivery, people over the hours", async () => {
    // At delivery: Apple's proxy loads every pixel; the gateway walks 30 % of the messages.
    const scanned = messages.filter((_, i) => i % 10 < 3);
    await Promise.all(messages.map((m) => hit(m.pixel, { agent: "Mozilla/5.0", ip: appleIp })));
    await Promise.all(
      scanned.map(async (m, i) => {
        const agent = i % 2 === 0 ? gatewayAgent : browser;
        for (const path of m.links.values()) {
          expect(await hit(path, { method: "HEAD", agent, ip: gatewayIp })).toBe(302);
          expect(await hit(path, { agent, ip: gatewayIp })).toBe(302);
        }
      }),
    );

    // People: about half the readers click one story, some a second one a quarter of an hour later.
    const waves: { hour: number; clicks: { m: Message; linkNo: number }[] }[] = [1, 2, 3, 5, 8, 13].map(
      (hour) => ({ hour, clicks: [] }),
    );
    const later: { m: Message; linkNo: number }[] = [];
    const opens: Message[] = [];
    const storyLinks = [...storyOf.entries()].filter(([, s]) => s !== null).map(([n]) => n);
    for (const m of messages) {
      if (rand() < 0.2) opens.push(m);
      if (rand() >= 0.5) continue;
      const first = storyLinks[Math.floor(rand() * storyLinks.length)] ?? 1;
      waves[Math.floor(rand() * waves.length)]?.clicks.push({ m, linkNo: first });
      if (rand() < 0.4) {
        const second = storyLinks[Math.floor(rand() * storyLinks.length)] ?? 1;
        later.push({ m, linkNo: second });
      }
    }
    let clock = 0;
    for (const [w, wave] of waves.entries()) {
      await hoursPass(wave.hour - clock);
      clock = wave.hour;
      const person = (m: Message) => `198.51.100.${(m.deliveryId % 250) + 1}`;
      await Promise.all(
        wave.clicks.map(async ({ m, linkNo }) => {
          const path = m.links.get(linkNo) ?? "";
          expect(await hit(path, { agent: browser, ip: person(m) })).toBe(302);
          const story = storyOf.get(linkNo) ?? "";
          truth.set(story, (truth.get(story) ?? new Set()).add(m.deliveryId));
        }),
      );
      if (w === 0) await Promise.all(opens.map((m) => hit(m.pixel, { agent: browser, ip: person(m) })));
      // A quarter of an hour later, some of this wave's readers go back for a second story.
      await hoursPass(0.25);
      clock += 0.25;
      const seconds = later.filter((l) => wave.clicks.some((c) => c.m === l.m));
      await Promise.all(
        seconds.map(async ({ m, linkNo }) => {
          expect(await hit(m.links.get(linkNo) ?? "", { agent: browser, ip: person(m) })).toBe(302);
          const story = storyOf.get(linkNo) ?? "";
          truth.set(story, (truth.get(story) ?? new Set()).add(m.deliveryId));
        }),
      );
    }
    expect([...truth.values()].reduce((n, s) => n + s.size, 0)).toBeGreaterThan(60);
    await recorder.settled();
  }, 120_000);

  it("the report counts the people's clicks per story within 5 % of the truth", async () => {
    const people = new Set([...truth.values()].flatMap((s) => [...s]));
    expect(people.size, "the day was played").toBeGreaterThan(60);
    const { report } = await readershipOf(database.db, sendId);
    expect(report.delivered).toBe(readers);
    for (const story of report.stories) {
      const actual = truth.get(story.anchor)?.size ?? 0;
      expect(
        Math.abs(story.humanClickers - actual),
        `${story.anchor}: ${story.humanClickers} vs ${actual}`,
      ).toBeLessThanOrEqual(Math.max(1, Math.ceil(actual * 0.05)));
    }
    expect(Math.abs(report.humanClickers - people.size)).toBeLessThanOrEqual(Math.ceil(people.size * 0.05));
  });

  it("counts every request of the gateway as scanner, with the rule that decided it", async () => {
    const rows = await database.query<{ class: string; rule: string; n: number }>(sql`
      select class, rule, count(*)::int as n from tracking_events
      where send_id = ${sendId} and ip = ${gatewayIp} group by class, rule order by rule`);
    const scannedRequests = messages.filter((_, i) => i % 10 < 3).length * storyOf.size * 2;
    expect(rows.reduce((n, r) => n + r.n, 0)).toBe(scannedRequests);
    expect(rows.filter((r) => r.class !== "scanner")).toEqual([]);
    expect(rows.map((r) => r.rule)).toEqual(
      expect.arrayContaining(["canary", "head-request", "scanner-agent:mimecast", "canary-burst"]),
    );
  });

  it("counts the proxy's pixel loads as privacy-proxy, and the browser opens as human-likely", async () => {
    const rows = await database.query<{ class: string; n: number }>(sql`
      select class, count(*)::int as n from tracking_events
      where send_id = ${sendId} and kind = 'open' group by class`);
    const byClass = Object.fromEntries(rows.map((r) => [r.class, r.n]));
    expect(byClass["privacy-proxy"]).toBe(readers);
    const { report } = await readershipOf(database.db, sendId);
    expect(report.events["privacy-proxy"]).toBe(readers);
    expect(report.opens.humanLikely + report.opens.machine).toBe(readers);
    expect(report.opens.humanLikely).toBeGreaterThan(readers * 0.4);
  });
});
