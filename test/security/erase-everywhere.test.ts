import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { saveIssue } from "../../src/issues/store.js";
import { addressHash, suppress } from "../../src/subscribers/suppression.js";
import { form, signIn, staffMember } from "../console/session.js";
import { digest } from "../helpers/cli.js";
import { sharedRedisUrl } from "../helpers/redis.js";
import { bearer, startService } from "../http/harness.js";

/**
 * Erasure leaves the address in no column of any table, whichever way staff ask for it: the admin
 * API, the console or `digest subscribers remove`. The reader has everything a real one gathers
 * (consent record, deliveries, bounces quoting them, audit entries, a test send, a login attempt
 * with their address); the check reads information_schema, so a table added later is checked too.
 * A neighbour whose address contains the erased one (steve.x@ holds eve.x@) keeps everything.
 */
const service = await startService({ worker: false, sending: true });
const { app, database, newsletter } = service;
const db = database.db;
const issueId = (await saveIssue(db, readFileSync("examples/issues/vol-2-6.md", "utf8"), newsletter)).issue
  .id;
await staffMember(db, "boss@staff.test", "admin");
const admin = await signIn(app, "boss@staff.test");

/**
 * Every text, varchar, json, jsonb or array column of every table holding `needle` in any case,
 * apart from inside `besides` (the neighbour's address, which holds the needle).
 */
async function columnsHolding(needle: string, besides = ""): Promise<string[]> {
  const columns = await database.query<{ table_schema: string; table_name: string; column_name: string }>(
    sql`select c.table_schema, c.table_name, c.column_name from information_schema.columns c
      join information_schema.tables t using (table_schema, table_name)
      where t.table_type = 'BASE TABLE' and c.table_schema not in ('pg_catalog', 'information_schema')
        and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')`,
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

/** A reader with a history, made the way it happens: console, test send, a send, bounces, a login attempt. */
async function readerWithHistory(address: string) {
  const shouted = address.toUpperCase();
  const neighbour = `st${address}`;
  for (const email of [address, neighbour]) {
    expect(
      (await admin.post("/admin/subscribers", { email, name: "Eve Erased", confirmed: "yes" })).status,
    ).toBe(303);
  }
  await database.query(sql`update subscribers set consent_ip = '192.0.2.7', confirmed_ip = '192.0.2.8'
    where lower(email) = ${address}`);
  expect(
    (
      await admin.post(`/admin/issues/${issueId}/test`, {
        to: `${shouted}, ${neighbour}, colleague@staff.test`,
      })
    ).status,
  ).toBe(303);
  const [{ id: subscriberId } = { id: "" }] = await database.query<{ id: string }>(
    sql`select id from subscribers where lower(email) = ${address}`,
  );
  const [{ id: sendId } = { id: "" }] = await database.query<{ id: string }>(
    sql`insert into sends (issue_id, status) values (${issueId}, 'done') returning id`,
  );
  const [{ id: deliveryId } = { id: 0 }] = await database.query<{ id: number }>(
    sql`insert into deliveries (send_id, subscriber_id, status, last_response)
      values (${sendId}, ${subscriberId}, 'bounced', ${`550 5.1.1 <${shouted}>: Recipient address rejected`})
      returning id::float8 as id`,
  );
  const diagnostic = `smtp; 550 5.1.1 <${shouted}>: User unknown`;
  await database.query(sql`insert into bounces (delivery_id, subscriber_id, type, reason, status, diagnostic, source, details)
    values (${deliveryId}, ${subscriberId}, 'hard', ${`mailbox ${address} unknown`}, '5.1.1', ${diagnostic}, 'dsn',
            ${JSON.stringify({ recipient: shouted, action: "failed" })}::jsonb),
           (null, null, 'hard', null, '5.1.1', ${`rcpt=${address}: no such user`}, 'cli', null)`);
  await suppress(db, address, "bounced", diagnostic);
  await app.request("/admin/login", form({ email: shouted, password: "a guess of some length" }));
  expect((await admin.post("/admin/subscribers/unsubscribe", { email: address })).status).toBe(303);
  // Before: the address is in many places, in several spellings.
  expect((await columnsHolding(address, neighbour)).length).toBeGreaterThan(6);
  return { neighbour };
}

async function expectErased(address: string, neighbour: string) {
  expect(await columnsHolding(address, neighbour)).toEqual([]);
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
  it("through the admin API leaves the address in no column of any table, only its hash on the suppression list", async () => {
    const address = "eve.api@readers.test";
    const { neighbour } = await readerWithHistory(address);
    const res = await app.request(`/api/subscribers/${encodeURIComponent(address.toUpperCase())}`, {
      method: "DELETE",
      headers: bearer,
    });
    expect(await res.json()).toEqual({ erased: true });
    await expectErased(address, neighbour);
  });

  it("through the console leaves the address in no column of any table, only its hash on the suppression list", async () => {
    const address = "eve.console@readers.test";
    const { neighbour } = await readerWithHistory(address);
    expect((await admin.post("/admin/subscribers/erase", { email: address, really: "yes" })).status).toBe(
      303,
    );
    await expectErased(address, neighbour);
  });

  it("through digest subscribers remove leaves the address in no column of any table, only its hash on the suppression list", async () => {
    const address = "eve.cli@readers.test";
    const { neighbour } = await readerWithHistory(address);
    const removed = digest(["subscribers", "remove", address], {
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: sharedRedisUrl,
        QUEUE_PREFIX: service.settings.queuePrefix,
      },
    });
    expect(removed.stderr).toBe("");
    expect(removed.code).toBe(0);
    await expectErased(address, neighbour);
  });
});
