import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/database.js";
import { saveIssue } from "../../src/issues/store.js";
import { cliActor } from "../../src/staff/audit.js";
import { eraseReader } from "../../src/subscribers/erase.js";
import { setReaderTracking } from "../../src/tracking/opt-out.js";
import { saveSendLinks } from "../../src/tracking/send-links.js";
import { type SendKey, sendKey, signClick, signOpen, trackingKey } from "../../src/tracking/token.js";
import { createTestDatabase } from "../helpers/db.js";
import { exampleIssue, newsletter, secret } from "../sending/harness.js";
import { trackingApp } from "./app.js";

/**
 * `/r/` and `/o/` against rows made by hand: two sends of one issue, each with its readers'
 * deliveries and numbered links, as a worker leaves them.
 */
const database = await createTestDatabase();
const key = trackingKey(secret);
const browser = {
  "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
};

interface Send {
  id: string;
  key: SendKey;
  deliveries: number[];
}
let sendA: Send;
let sendB: Send;
let testDelivery: number;

async function makeSend(issueId: string, links: string[], readers: string[]): Promise<Send> {
  const [send] = await database.query<{ id: string }>(
    sql`insert into sends (issue_id, status, started_at) values (${issueId}, 'done', now()) returning id`,
  );
  const id = send!.id;
  await saveSendLinks(database.db, id, [
    { linkNo: 0, url: "https://news.example.org/", storyAnchor: null, headline: null, canary: true },
    ...links.map((url, i) => ({
      linkNo: i + 1,
      url,
      storyAnchor: `story-${i + 1}`,
      headline: `Story ${i + 1}`,
      canary: false,
    })),
  ]);
  const rows = await database.query<{ id: number }>(
    sql`insert into deliveries (send_id, subscriber_id, status, sent_at)
        select ${id}, s.id, 'sent', now() - interval '1 hour' from subscribers s
        where s.email = any(${sql.raw(`array[${readers.map((r) => `'${r}'`).join(",")}]`)}) order by s.email
        returning id::float8 as id`,
  );
  return { id, key: sendKey(key, id), deliveries: rows.map((r) => r.id) };
}

const path = (send: Send, delivery: number, link: number) => `/r/${signClick(send.key, delivery, link)}`;
const events = async () =>
  (await database.query<{ n: number }>(sql`select count(*)::int as n from tracking_events`))[0]!.n;

beforeAll(async () => {
  const { issue } = await saveIssue(database.db, exampleIssue, newsletter);
  await database.query(sql`insert into subscribers (email, status, consent_source)
    select 'r' || i || '@readers.test', 'active', 'admin' from generate_series(0, 5) as i`);
  sendA = await makeSend(
    issue.id,
    ["https://example.com/a1", "https://example.com/a2?x=1&y=2"],
    ["r0@readers.test", "r1@readers.test", "r2@readers.test"],
  );
  sendB = await makeSend(
    issue.id,
    ["https://example.com/b1", "https://example.com/b2", "https://example.com/b3"],
    ["r3@readers.test", "r4@readers.test"],
  );
  const [test] = await database.query<{ id: number }>(
    sql`insert into deliveries (send_id, address, status, sent_at) values (${sendA.id}, 'r5@readers.test', 'sent', now())
        returning id::float8 as id`,
  );
  testDelivery = test!.id;
});

describe("GET /r/<token>", () => {
  it("redirects to the stored URL of that link of that send, uncached, and records one click", async () => {
    const { app, recorder } = await trackingApp(database);
    const before = await events();
    const got = await app.request(path(sendA, sendA.deliveries[0]!, 2), { headers: browser });
    expect(got.status).toBe(302);
    expect(got.headers.get("location")).toBe("https://example.com/a2?x=1&y=2");
    expect(got.headers.get("cache-control")).toBe("no-store");
    expect(got.headers.get("referrer-policy")).toBe("no-referrer");
    await recorder.settled();
    expect(await events()).toBe(before + 1);
    const [row] = await database.query<{
      kind: string;
      link_no: number;
      method: string;
      ip: string;
      class: string;
      rule: string;
      email: string;
    }>(
      sql`select e.kind, e.link_no, e.method, e.ip, e.class, e.rule, s.email from tracking_events e
          join subscribers s on s.id = e.subscriber_id order by e.id desc limit 1`,
    );
    expect(row).toMatchObject({
      kind: "click",
      link_no: 2,
      method: "GET",
      ip: "192.0.2.1",
      email: "r0@readers.test",
    });
    expect(row!.rule).not.toBe("");
  });

  it("stores the user agent exactly as sent, whatever characters it holds, and a missing one as null", async () => {
    const { app, recorder } = await trackingApp(database);
    const hostile = `Evil "agent" \\ {a,b} NULL, 'x'); drop table tracking_events; -- é`;
    await app.request(path(sendA, sendA.deliveries[0]!, 1), { headers: { "user-agent": hostile } });
    await app.request(path(sendA, sendA.deliveries[0]!, 1));
    await recorder.settled();
    const rows = await database.query<{ user_agent: string | null }>(
      sql`select user_agent from tracking_events order by id desc limit 2`,
    );
    expect(rows.map((r) => r.user_agent)).toEqual([null, hostile]);
  });

  it("answers HEAD the same way and records it as a HEAD", async () => {
    const { app, recorder } = await trackingApp(database);
    const got = await app.request(path(sendB, sendB.deliveries[1]!, 3), { method: "HEAD", headers: browser });
    expect(got.status).toBe(302);
    expect(got.headers.get("location")).toBe("https://example.com/b3");
    await recorder.settled();
    const [row] = await database.query<{ method: string; class: string }>(
      sql`select method, class from tracking_events order by id desc limit 1`,
    );
    expect(row!.method).toBe("HEAD");
  });

  it("answers 404 and records nothing for a forged, truncated, moved or unknown token", async () => {
    const { app, recorder } = await trackingApp(database);
    const good = signClick(sendA.key, sendA.deliveries[1]!, 1);
    const mac = Buffer.from(good, "base64url").subarray(-10);
    const payloadOf = (t: string) => Buffer.from(t, "base64url").subarray(0, -10);
    const bad = [
      // The MAC of one delivery on another delivery of the same send, and of another send.
      Buffer.concat([payloadOf(signClick(sendA.key, sendA.deliveries[2]!, 1)), mac]).toString("base64url"),
      Buffer.concat([payloadOf(signClick(sendB.key, sendB.deliveries[0]!, 1)), mac]).toString("base64url"),
      // The same delivery and link signed as if it were another send's.
      signClick(sendB.key, sendA.deliveries[1]!, 1),
      // Signed with another secret.
      signClick(
        sendKey(trackingKey("another-secret-0123456789abcdef-012345"), sendA.id),
        sendA.deliveries[1]!,
        1,
      ),
      good.slice(0, -1),
      good.slice(0, 12),
      `${good}x`,
      // A delivery that does not exist.
      signClick(sendA.key, 999_999, 1),
      "not-a-token",
      "%00",
    ];
    const before = await events();
    for (const token of bad) {
      const got = await app.request(`/r/${token}`, { headers: browser });
      expect(got.status, token).toBe(404);
      expect(got.headers.get("location")).toBeNull();
      expect((await got.text()).length).toBeLessThan(100);
    }
    await recorder.settled();
    expect(await events()).toBe(before);
  });

  it("answers 404 for a valid signature on a link number the delivery's send does not have", async () => {
    const { app, recorder } = await trackingApp(database);
    const before = await events();
    // Send B has a link 3; send A has not: a token for A's delivery and link 3 leads nowhere.
    for (const token of [
      signClick(sendA.key, sendA.deliveries[0]!, 3),
      signClick(sendA.key, sendA.deliveries[0]!, 300),
    ]) {
      expect((await app.request(`/r/${token}`)).status).toBe(404);
    }
    // Warm too: with both sends in memory.
    await app.request(path(sendB, sendB.deliveries[0]!, 3));
    expect((await app.request(path(sendA, sendA.deliveries[0]!, 3))).status).toBe(404);
    await recorder.settled();
    expect(await events()).toBe(before + 1);
  });

  it("still redirects an old token whose events were purged", async () => {
    const { app } = await trackingApp(database);
    await database.query(sql`delete from tracking_events where send_id = ${sendA.id}`);
    await database.query(
      sql`update deliveries set sent_at = now() - interval '400 days' where id = ${sendA.deliveries[2]!}`,
    );
    const got = await app.request(path(sendA, sendA.deliveries[2]!, 1));
    expect(got.status).toBe(302);
    expect(got.headers.get("location")).toBe("https://example.com/a1");
  });

  it("redirects without waiting for a database that has stopped answering, once the send is warm", async () => {
    let stalled = false;
    const never = new Promise<never>(() => {});
    const slow = new Proxy(database.db, {
      get(target, property, receiver) {
        if (stalled && property === "execute") return () => never;
        if (stalled && property === "insert") return () => ({ values: () => never });
        const value = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Db;
    const { app } = await trackingApp(database, { db: slow });
    expect((await app.request(path(sendB, sendB.deliveries[0]!, 1), { headers: browser })).status).toBe(302);
    stalled = true;
    // Another reader of the same send: their delivery is not in memory, the send is.
    const answer = await Promise.race([
      app.request(path(sendB, sendB.deliveries[1]!, 2), { headers: browser }),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2000)),
    ]);
    expect(answer?.status).toBe(302);
    expect(answer?.headers.get("location")).toBe("https://example.com/b2");
  });

  it("still redirects when the event cannot be written, and counts it as lost", async () => {
    let failing = false;
    const broken = new Proxy(database.db, {
      get(target, property, receiver) {
        if (failing && property === "execute") return () => Promise.reject(new Error("disk full"));
        const value = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Db;
    const { app, recorder } = await trackingApp(database, { db: broken });
    await app.request(path(sendA, sendA.deliveries[1]!, 1), { headers: browser });
    await recorder.settled();
    failing = true;
    const got = await app.request(path(sendA, sendA.deliveries[1]!, 2), { headers: browser });
    expect(got.status).toBe(302);
    expect(got.headers.get("location")).toBe("https://example.com/a2?x=1&y=2");
    await recorder.settled();
    expect(recorder.lost()).toBe(1);
  });

  it("redirects and records nothing while TRACK_CLICKS is off", async () => {
    const { app, recorder } = await trackingApp(database, { clicks: false, opens: false });
    const before = await events();
    expect((await app.request(path(sendA, sendA.deliveries[0]!, 1))).status).toBe(302);
    expect((await app.request(`/o/${signOpen(sendA.key, sendA.deliveries[0]!)}.gif`)).status).toBe(200);
    await recorder.settled();
    expect(await events()).toBe(before);
  });

  it("redirects a reader who turned tracking off and records nothing of theirs", async () => {
    const { app, recorder } = await trackingApp(database);
    const [reader] = await database.query<{ id: string }>(
      sql`select id from subscribers where email = 'r4@readers.test'`,
    );
    await setReaderTracking(database.db, reader!.id, false);
    const before = await events();
    expect((await app.request(path(sendB, sendB.deliveries[1]!, 1))).status).toBe(302);
    await recorder.settled();
    expect(await events()).toBe(before);
    await setReaderTracking(database.db, reader!.id, true);
  });
});

describe("GET /o/<token>.gif", () => {
  it("answers a 43-byte transparent GIF, uncached, and records an open", async () => {
    const { app, recorder } = await trackingApp(database);
    const before = await events();
    const got = await app.request(`/o/${signOpen(sendA.key, sendA.deliveries[0]!)}.gif`, {
      headers: browser,
    });
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("image/gif");
    expect(got.headers.get("cache-control")).toBe("no-store");
    const bytes = Buffer.from(await got.arrayBuffer());
    expect(bytes).toHaveLength(43);
    expect(bytes.subarray(0, 6).toString("latin1")).toBe("GIF89a");
    await recorder.settled();
    expect(await events()).toBe(before + 1);
    const [row] = await database.query<{ kind: string; link_no: number | null }>(
      sql`select kind, link_no from tracking_events order by id desc limit 1`,
    );
    expect(row).toEqual({ kind: "open", link_no: null });
  });

  it("answers 404 for a click token, a forged token or no .gif", async () => {
    const { app, recorder } = await trackingApp(database);
    const before = await events();
    const open = signOpen(sendA.key, sendA.deliveries[0]!);
    for (const url of [
      `/o/${signClick(sendA.key, sendA.deliveries[0]!, 1)}.gif`,
      `/o/${signOpen(sendB.key, sendA.deliveries[0]!)}.gif`,
      `/o/${open.slice(0, -2)}.gif`,
      `/o/${open}`,
      `/o/${open}.png`,
    ])
      expect((await app.request(url)).status, url).toBe(404);
    await recorder.settled();
    expect(await events()).toBe(before);
  });
});

describe("erasing a reader", () => {
  it("removes their clicks and opens, and those of test mail to their address", async () => {
    const { app, recorder } = await trackingApp(database);
    await database.query(sql`delete from tracking_events`);
    await app.request(path(sendA, sendA.deliveries[1]!, 1), { headers: browser });
    await app.request(`/o/${signOpen(sendA.key, sendA.deliveries[1]!)}.gif`, { headers: browser });
    await app.request(path(sendA, testDelivery, 2), { headers: browser });
    await app.request(path(sendA, sendA.deliveries[0]!, 1), { headers: browser });
    await recorder.settled();
    const theirs = async () =>
      (
        await database.query<{ n: number }>(
          sql`select count(*)::int as n from tracking_events where delivery_id in (${sendA.deliveries[1]!}, ${testDelivery})`,
        )
      )[0]!.n;
    expect(await theirs()).toBe(3);
    const others = await events();
    await eraseReader(database.db, "r1@readers.test", cliActor);
    await eraseReader(database.db, "r5@readers.test", cliActor);
    expect(await theirs()).toBe(0);
    expect(await events()).toBe(others - 3);
  });
});
