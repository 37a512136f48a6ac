import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { saveIssue } from "../../src/issues/store.js";
import { signIn, staffMember } from "../console/session.js";
import { adminToken, startService } from "./harness.js";

/** The admin send routes and the queue dashboard, through the real app and its bearer check. */
const service = await startService({ worker: false, sending: true });
const { app, database, newsletter } = service;
const issueId = (await saveIssue(database.db, readFileSync("examples/issues/vol-2-6.md", "utf8"), newsletter))
  .issue.id;
await database.query(sql`insert into subscribers (email, status, consent_source)
  select 'r' || i || '@readers.test', 'active', 'admin' from generate_series(1, 5) as i`);

const auth = { authorization: `Bearer ${adminToken}` };
const post = (path: string, body?: unknown) =>
  app.request(path, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body),
  });

describe("admin send routes", () => {
  let sendId: string;

  it("refuse anyone without the admin token", async () => {
    expect((await app.request(`/api/issues/${issueId}/sends`, { method: "POST" })).status).toBe(401);
  });

  it("start no real send without confirm: the active reader count (422, nothing sent)", async () => {
    for (const body of [undefined, {}, { confirm: 4 }, { confirm: 6 }]) {
      const res = await post(`/api/issues/${issueId}/sends`, body);
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({ activeReaders: 5 });
    }
    const [sends] = await database.query<{ n: number }>(sql`select count(*)::int as n from sends`);
    expect(sends?.n).toBe(0);
  });

  it("start a send with 202 and its id when confirm matches, and show its status", async () => {
    const res = await post(`/api/issues/${issueId}/sends`, { confirm: 5 });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { sendId: string; deliveries: number; confirmed: number };
    expect(body).toMatchObject({ deliveries: 5, confirmed: 5 });
    sendId = body.sendId;
    const status = await app.request(`/api/sends/${sendId}`, { headers: auth });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      sendId,
      total: 5,
      ambiguous: 0,
      rate: 0,
      secondsLeft: null,
      reasons: [],
    });
  });

  it("pause, refuse a second pause with 409, and cancel", async () => {
    expect((await post(`/api/sends/${sendId}/pause`)).status).toBe(200);
    expect((await post(`/api/sends/${sendId}/pause`)).status).toBe(409);
    const cancel = await post(`/api/sends/${sendId}/cancel`);
    expect(await cancel.json()).toMatchObject({ status: "cancelled", rows: 5 });
  });

  it("answer bad input with a 4xx, never a 500", async () => {
    expect((await post(`/api/issues/${issueId}/sends`, "{nope")).status).toBe(400);
    expect((await post(`/api/issues/${issueId}/sends`, { test: "x" })).status).toBe(400);
    expect((await post(`/api/issues/${issueId}/sends`, { test: ["bad address"] })).status).toBe(400);
    expect((await post(`/api/issues/${issueId}/sends`, { at: "tomorrow" })).status).toBe(400);
    expect((await post(`/api/issues/${issueId}/sends`, { confirm: "5" })).status).toBe(400);
    expect((await post("/api/issues/not-an-id/sends")).status).toBe(404);
    expect((await post("/api/issues/00000000-0000-4000-8000-000000000000/sends")).status).toBe(404);
    expect((await app.request("/api/sends/nope", { headers: auth })).status).toBe(400);
    expect(
      (await app.request("/api/sends/00000000-0000-4000-8000-000000000000", { headers: auth })).status,
    ).toBe(404);
    expect((await post(`/api/sends/${sendId}/explode`)).status).toBe(404);
  });

  it("need again: true for a second send of the same issue", async () => {
    expect((await post(`/api/issues/${issueId}/sends`, { confirm: 5 })).status).toBe(202);
    expect((await post(`/api/issues/${issueId}/sends`, { confirm: 5 })).status).toBe(409);
    expect((await post(`/api/issues/${issueId}/sends`, { again: true, confirm: 5 })).status).toBe(202);
  });
});

describe("a list that changes between the count and the start", () => {
  it("plans from the snapshot and says both numbers", async () => {
    // A reader confirms at the worst moment: right as the send row is written.
    await database.query(sql`create function late_reader() returns trigger language plpgsql as $$
      begin
        insert into subscribers (email, status, consent_source) values ('late@readers.test', 'active', 'web');
        return new;
      end $$`);
    await database.query(sql`create trigger late_reader before insert on sends
      for each row execute function late_reader()`);
    try {
      const res = await post(`/api/issues/${issueId}/sends`, { confirm: 5, again: true });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { confirmed: number; deliveries: number; note: string };
      expect(body).toMatchObject({ confirmed: 5, deliveries: 6 });
      expect(body.note).toContain("5 readers were confirmed");
    } finally {
      await database.query(sql`drop trigger late_reader on sends`);
      await database.query(sql`drop function late_reader()`);
    }
  });
});

describe("the queue dashboard", () => {
  it("shows the BullMQ dashboard to a signed-in admin (the Bearer token no longer opens it)", async () => {
    expect((await app.request("/admin/queues", { headers: auth })).status).toBe(303);
    await staffMember(database.db, "queues-admin@staff.test", "admin");
    const admin = await signIn(app, "queues-admin@staff.test");
    const res = await admin.get("/admin/queues");
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<html/i);
    const queues = await admin.get("/admin/queues/api/queues");
    expect(queues.status).toBe(200);
    const names = ((await queues.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(["transactional", "deliveries"]));
  });
});
