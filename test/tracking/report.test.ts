import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { clickRate, readershipOf, reportJson } from "../../src/tracking/report.js";
import { purgeExpiredEvents } from "../../src/tracking/retention.js";
import { digest } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { type Hit, mimecast, record, type SeededSend, seedSend } from "./factories.js";

const database = await createTestDatabase();
const hour = 3600;
const apple = { ip: "17.58.1.2", userAgent: "Mozilla/5.0" };

/** Ten readers; what each one's mail met, with the truth in the comments. */
function traffic(send: SeededSend): Hit[] {
  const [r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0, r5 = 0, r6 = 0] = send.deliveries;
  return [
    // r0's gateway walks every link with a browser's agent 2 s after delivery, GET and HEAD.
    { delivery: r0, linkNo: 0, after: 2, ip: "203.0.113.5" },
    ...[1, 2, 3, 4].map((linkNo) => ({ delivery: r0, linkNo, after: 2, ip: "203.0.113.5" })),
    ...[1, 2, 3, 4].map((linkNo) => ({ delivery: r0, linkNo, after: 3, ip: "203.0.113.5", method: "HEAD" })),
    // ... and r0 reads the budget story three hours later.
    { delivery: r0, linkNo: 1, after: 3 * hour },
    // r1 reads housing, then the budget.
    { delivery: r1, linkNo: 2, after: hour },
    { delivery: r1, linkNo: 1, after: 2 * hour },
    // r2's Mimecast checks the budget link; r2 never reads.
    { delivery: r2, linkNo: 1, after: 1, userAgent: mimecast },
    // r3 reads on an iPhone with Mail Privacy Protection: the proxy opens, r3 clicks transit.
    { delivery: r3, kind: "open", after: 1, ...apple },
    { delivery: r3, linkNo: 3, after: 5 * hour },
    // r4: only Apple's proxy.
    { delivery: r4, kind: "open", after: 1, ...apple },
    // r5 opens in a browser-based webmail that shows images.
    { delivery: r5, kind: "open", after: hour / 2 },
    // r6: something we cannot tell clicks housing.
    { delivery: r6, linkNo: 2, after: 4 * hour, userAgent: "SomethingElse/1.0" },
  ];
}

describe("readership of a send", () => {
  it("counts people per story, everything that clicked, opens by people and by machines, events by class", async () => {
    const send = await seedSend(database, { readers: 10, sentAt: new Date(Date.now() - 86_400_000) });
    await record(database, send, traffic(send));
    const { report, source, tracked } = await readershipOf(database.db, send.sendId);
    expect({ source, tracked }).toEqual({ source: "events", tracked: true });
    expect(reportJson(report)).toEqual({
      sendId: send.sendId,
      delivered: 10,
      stories: [
        { anchor: "budget", headline: "The budget, line by line", humanClickers: 2, allClickers: 3 },
        { anchor: "housing", headline: "Housing: what changed", humanClickers: 1, allClickers: 3 },
        { anchor: "transit", headline: "Transit fares", humanClickers: 1, allClickers: 2 },
      ],
      humanClickers: 3,
      opens: { humanLikely: 4, machine: 1 },
      events: { human: 5, scanner: 10, "privacy-proxy": 2, unknown: 1 },
    });
    expect(clickRate(report)).toBeCloseTo(0.3);
  });

  it("writes back the rule that decided: the gateway's browser-looking clicks become canary-burst", async () => {
    const send = await seedSend(database, { readers: 10, sentAt: new Date(Date.now() - 86_400_000) });
    await record(database, send, traffic(send));
    const before = await rulesOf(send.deliveries[0] ?? 0);
    expect(before.filter((r) => r === "human browser-click")).toHaveLength(5);
    await readershipOf(database.db, send.sendId);
    const after = await rulesOf(send.deliveries[0] ?? 0);
    expect(after.filter((r) => r === "scanner canary-burst")).toHaveLength(4);
    expect(after.filter((r) => r === "human browser-click")).toHaveLength(1);
  });

  it("says a send without tracked links was not tracked", async () => {
    const send = await seedSend(database, { readers: 3, sentAt: new Date(), links: false });
    const { tracked, report } = await readershipOf(database.db, send.sendId);
    expect(tracked).toBe(false);
    expect(report.events).toEqual({ human: 0, scanner: 0, "privacy-proxy": 0, unknown: 0 });
  });
});

describe("retention", () => {
  it("keeps a send's figures and deletes its events once its oldest event is past TRACKING_RETENTION_DAYS", async () => {
    const now = new Date();
    const old = await seedSend(database, { readers: 10, sentAt: new Date(now.getTime() - 100 * 86_400_000) });
    const young = await seedSend(database, {
      readers: 10,
      sentAt: new Date(now.getTime() - 10 * 86_400_000),
    });
    await record(database, old, traffic(old));
    await record(database, young, traffic(young));
    const expected = reportJson((await readershipOf(database.db, old.sendId)).report);

    expect(await purgeExpiredEvents(database.db, { retentionDays: 90, now })).toEqual({
      sends: 1,
      events: 18,
    });
    expect(await eventsOf(old.sendId)).toBe(0);
    expect(await eventsOf(young.sendId)).toBe(18);
    const kept = await readershipOf(database.db, old.sendId);
    expect(kept.source).toBe("snapshot");
    expect(reportJson(kept.report)).toEqual(expected);
    // A second pass finds nothing more to purge.
    expect(await purgeExpiredEvents(database.db, { retentionDays: 90, now })).toEqual({
      sends: 0,
      events: 0,
    });
    // With a clock 100 days on, the younger send goes too.
    const later = new Date(now.getTime() + 100 * 86_400_000);
    await purgeExpiredEvents(database.db, { retentionDays: 90, now: later });
    expect(await eventsOf(young.sendId)).toBe(0);
  });

  it("adds a late event after the purge to the kept figures", async () => {
    const now = new Date();
    const send = await seedSend(database, {
      readers: 10,
      sentAt: new Date(now.getTime() - 100 * 86_400_000),
    });
    await record(database, send, traffic(send));
    await purgeExpiredEvents(database.db, { retentionDays: 90, now });
    await record(database, send, [{ delivery: send.deliveries[9] ?? 0, linkNo: 3, after: 99 * 86_400 }]);
    const { report } = await readershipOf(database.db, send.sendId);
    expect(report.stories.find((s) => s.anchor === "transit")?.humanClickers).toBe(2);
    expect(report.events.human).toBe(6);
  });
});

describe("digest report", () => {
  const env = { DATABASE_URL: database.url };

  it("prints the SPEC's JSON for the latest non-test send", async () => {
    const send = await seedSend(database, { readers: 10, sentAt: new Date(Date.now() + 60_000) });
    await record(database, send, traffic(send));
    await seedSend(database, { readers: 1, sentAt: new Date(Date.now() + 120_000), isTest: true });
    const { code, stdout } = digest(["report", "--json"], { env });
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(Object.keys(json)).toEqual(["sendId", "delivered", "stories", "humanClickers", "opens", "events"]);
    expect(json.sendId).toBe(send.sendId);
    expect(json.stories[0]).toEqual({
      anchor: "budget",
      headline: "The budget, line by line",
      humanClickers: 2,
      allClickers: 3,
    });
  });

  it("prints a table with the click-to-delivery rate", () => {
    const { code, stdout } = digest(["report"], { env });
    expect(code).toBe(0);
    expect(stdout).toContain("click-to-delivery rate: 30.0% (3 of 10 readers clicked through, people only)");
    expect(stdout).toMatch(/The budget, line by line\s+2\s+3/);
    expect(stdout).toContain("opens: 4 human-likely, 1 machine or proxy only");
    expect(stdout).toContain("events: human 5, scanner 10, privacy-proxy 2, unknown 1");
  });

  it("exits 1 naming an unknown send", () => {
    const { code, stderr } = digest(["report", "00000000-0000-4000-8000-000000000000"], { env });
    expect(code).toBe(1);
    expect(stderr).toContain("no send 00000000-0000-4000-8000-000000000000");
  });

  it("notes that a send was not tracked", async () => {
    const send = await seedSend(database, { readers: 2, sentAt: new Date(), links: false });
    const { code, stderr } = digest(["report", send.sendId], { env });
    expect(code).toBe(0);
    expect(stderr).toContain("TRACK_CLICKS and TRACK_OPENS were off");
  });
});

async function rulesOf(deliveryId: number): Promise<string[]> {
  const rows = await database.query<{ verdict: string }>(
    sql`select class || ' ' || rule as verdict from tracking_events where delivery_id = ${deliveryId} order by id`,
  );
  return rows.map((r) => r.verdict);
}

async function eventsOf(sendId: string): Promise<number> {
  const [row] = await database.query<{ n: number }>(
    sql`select count(*)::int as n from tracking_events where send_id = ${sendId}`,
  );
  return row?.n ?? 0;
}
