import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { saveIssue } from "../../src/issues/store.js";
import { addressHash, suppress } from "../../src/subscribers/suppression.js";
import { signSubscriberToken } from "../../src/subscribers/tokens.js";
import { saveSendLinks } from "../../src/tracking/send-links.js";
import { sendKey, signClick, trackingKey } from "../../src/tracking/token.js";
import { form, signIn, staffMember } from "../console/session.js";
import { digest } from "../helpers/cli.js";
import { sharedRedisUrl } from "../helpers/redis.js";
import { bearer, json, secret, startService } from "../http/harness.js";
import { trackingApp } from "../tracking/app.js";

/**
 * Erasure leaves the address, the name and the row's id in no column of any table, whichever way
 * staff ask for it: the admin API, the console or `digest subscribers remove`. The reader has
 * everything a real one gathers (subscribed on the web and confirmed, a send with a click on it,
 * bounces quoting them, a send paused with a server's answer naming them, audit entries by staff, a
 * test send, a staff test address equal to theirs, a login attempt with their address); the check
 * reads information_schema, so a table added later is checked too. A neighbour whose address
 * contains the erased one (steve.x@ holds eve.x@) keeps everything.
 */
const service = await startService({ worker: false, sending: true });
const { app, database, newsletter } = service;
const db = database.db;
const issueId = (await saveIssue(db, readFileSync("examples/issues/vol-2-6.md", "utf8"), newsletter)).issue
  .id;
await staffMember(db, "boss@staff.test", "admin");
const admin = await signIn(app, "boss@staff.test");

/** The erased reader's name: nobody else's, so any trace of it is theirs. */
const readerName = "Evangeline Quillfeather";

/**
 * Every text, varchar, json, jsonb, uuid or array column of every table holding `needle` in any
 * case, apart from inside `besides` (the neighbour's address, which holds the needle).
 */
async function columnsHolding(needle: string, besides = ""): Promise<string[]> {
  const columns = await database.query<{ table_schema: string; table_name: string; column_name: string }>(
    sql`select c.table_schema, c.table_name, c.column_name from information_schema.columns c
      join information_schema.tables t using (table_schema, table_name)
      where t.table_type = 'BASE TABLE' and c.table_schema not in ('pg_catalog', 'information_schema')
        and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'uuid', 'ARRAY')`,
  );
  expect(columns.length).toBeGreaterThan(20);
  const found: string[] = [];
  for (const c of columns) {
    const column = sql.raw(`"${c.table_schema}"."${c.table_name}"."${c.column_name}"`);
    const table = sql.raw(`"${c.table_schema}"."${c.table_name}"`);
    const [row] = await database.query<{ n: number }>(
      sql`select count(*)::int as n from ${table} where strpos(replace(lower(${column}::text), ${besides.toLowerCase()}, ''), ${needle.toLowerCase()}) > 0`,
    );
    if ((row?.n ?? 0) > 0) found.push(`${c.table_name}.${c.column_name}`);
  }
  return found;
}

/**
 * A reader with a history, made the way it happens: the subscribe form and its confirmation link,
 * console, test send, a send with a click, bounces, a pause naming them, a login attempt.
 */
async function readerWithHistory(address: string) {
  const shouted = address.toUpperCase();
  const neighbour = `st${address}`;
  expect((await app.request("/subscribe", json({ email: shouted, name: readerName }))).status).toBe(202);
  const [{ id: subscriberId } = { id: "" }] = await database.query<{ id: string }>(
    sql`select id from subscribers where lower(email) = ${address}`,
  );
  const confirmed = await app.request(`/confirm/${signSubscriberToken(secret, "confirm", subscriberId)}`, {
    method: "POST",
  });
  expect(confirmed.status).toBe(200);
  expect(
    (await admin.post("/admin/subscribers", { email: neighbour, name: "Steve Neighbour", confirmed: "yes" }))
      .status,
  ).toBe(303);
  await staffMember(db, `tester.${address.split("@")[0]}@staff.test`, "editor");
  await database.query(sql`update staff set test_addresses = ${shouted}
    where email = ${`tester.${address.split("@")[0]}@staff.test`}`);
  expect(
    (
      await admin.post(`/admin/issues/${issueId}/test`, {
        to: `${shouted}, ${neighbour}, colleague@staff.test`,
      })
    ).status,
  ).toBe(303);
  const [{ id: sendId } = { id: "" }] = await database.query<{ id: string }>(
    sql`insert into sends (issue_id, status, paused_reason)
      values (${issueId}, 'paused', ${`the relay refused the login: 535 5.7.8 <${shouted}> not allowed`})
      returning id`,
  );
  const [{ id: deliveryId } = { id: 0 }] = await database.query<{ id: number }>(
    sql`insert into deliveries (send_id, subscriber_id, status, last_response, sent_at)
      values (${sendId}, ${subscriberId}, 'bounced', ${`550 5.1.1 <${shouted}>: Recipient address rejected`}, now())
      returning id::float8 as id`,
  );
  // The reader clicked a link in it (tracking on): the event holds their id, address and browser.
  await saveSendLinks(db, sendId, [
    { linkNo: 0, url: "https://news.example.org/", storyAnchor: null, headline: null, canary: true },
    { linkNo: 1, url: "https://example.com/story", storyAnchor: "story", headline: "Story", canary: false },
  ]);
  const tracking = await trackingApp(database);
  const click = await tracking.app.request(
    `/r/${signClick(sendKey(trackingKey(secret), sendId), deliveryId, 1)}`,
    {
      headers: {
        "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
      },
    },
  );
  expect(click.status).toBe(302);
  await tracking.recorder.settled();
  const diagnostic = `smtp; 550 5.1.1 ${readerName} <${shouted}>: User unknown`;
  await database.query(sql`insert into bounces (delivery_id, subscriber_id, send_id, type, reason, status, diagnostic, source, details)
    values (${deliveryId}, ${subscriberId}, ${sendId}, 'hard', ${`mailbox ${address} unknown`}, '5.1.1', ${diagnostic}, 'dsn',
            ${JSON.stringify({ recipient: shouted, to: `${readerName} <${shouted}>`, action: "failed" })}::jsonb),
           (null, null, null, 'hard', null, '5.1.1', ${`rcpt=${address}: no such user`}, 'cli', null)`);
  await suppress(db, address, "bounced", diagnostic);
  await app.request("/admin/login", form({ email: shouted, password: "a guess of some length" }));
  expect((await admin.post("/admin/subscribers/unsubscribe", { email: address })).status).toBe(303);
  // Before: the address, the name and the id are in many places, in several spellings.
  expect((await columnsHolding(address, neighbour)).length).toBeGreaterThan(6);
  expect(await columnsHolding(readerName)).toEqual(
    expect.arrayContaining(["subscribers.name", "bounces.diagnostic", "bounces.details"]),
  );
  expect(await columnsHolding(subscriberId)).toEqual(
    expect.arrayContaining([
      "subscribers.id",
      "deliveries.subscriber_id",
      "bounces.subscriber_id",
      "tracking_events.subscriber_id",
    ]),
  );
  return { neighbour, subscriberId };
}

async function expectErased(
  address: string,
  { neighbour, subscriberId }: { neighbour: string; subscriberId: string },
) {
  expect(await columnsHolding(address, neighbour)).toEqual([]);
  expect(await columnsHolding(readerName)).toEqual([]);
  expect(await columnsHolding(subscriberId)).toEqual([]);
  const [entry] = await database.query<{ reason: string; detail: string | null }>(
    sql`select reason, detail from suppressions where address_hash = ${addressHash(address)}`,
  );
  expect(entry).toEqual({ reason: "erased", detail: null });
  // The erasure itself is in the audit log, naming only the hash.
  const erasures = await database.query<{ target: string }>(
    sql`select target from audit_log where action = 'subscriber.erase' and target = ${`erased:${addressHash(address).slice(0, 16)}`}`,
  );
  expect(erasures).toHaveLength(1);
  // The neighbour keeps their row, their audit entries and their place in the test addresses.
  expect(await columnsHolding(neighbour)).toEqual(
    expect.arrayContaining([
      "subscribers.email",
      "audit_log.target",
      "audit_log.detail",
      "staff.test_addresses",
    ]),
  );
  const [boss] = await database.query<{ test_addresses: string }>(
    sql`select test_addresses from staff where email = 'boss@staff.test'`,
  );
  expect(boss?.test_addresses).toBe(`${neighbour}, colleague@staff.test`);
}

describe("erasing a reader", () => {
  it("through the admin API leaves the address, the name and the id in no column of any table, only the hash on the suppression list", async () => {
    const address = "eve.api@readers.test";
    const reader = await readerWithHistory(address);
    const res = await app.request(`/api/subscribers/${encodeURIComponent(address.toUpperCase())}`, {
      method: "DELETE",
      headers: bearer,
    });
    expect(await res.json()).toEqual({ erased: true });
    await expectErased(address, reader);
  });

  it("through the console leaves the address, the name and the id in no column of any table, only the hash on the suppression list", async () => {
    const address = "eve.console@readers.test";
    const reader = await readerWithHistory(address);
    expect((await admin.post("/admin/subscribers/erase", { email: address, really: "yes" })).status).toBe(
      303,
    );
    await expectErased(address, reader);
  });

  it("through digest subscribers remove leaves the address, the name and the id in no column of any table, only the hash on the suppression list", async () => {
    const address = "eve.cli@readers.test";
    const reader = await readerWithHistory(address);
    const removed = digest(["subscribers", "remove", address], {
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: sharedRedisUrl,
        QUEUE_PREFIX: service.settings.queuePrefix,
      },
    });
    expect(removed.stderr).toBe("");
    expect(removed.code).toBe(0);
    await expectErased(address, reader);
  });
});
