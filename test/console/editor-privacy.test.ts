import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { saveIssue } from "../../src/issues/store.js";
import { forEditors } from "../../src/sending/editor-view.js";
import { loadSendStatus } from "../../src/sending/status.js";
import { startService } from "../http/harness.js";
import { signIn, staffMember } from "./session.js";

/** Readers are an admin's business (SPEC §4 roles): an editor follows a send by counts and reasons. */
const service = await startService({ worker: false, sending: true });
const { app, database, newsletter } = service;
const db = database.db;
const issueId = (await saveIssue(db, readFileSync("examples/issues/vol-2-6.md", "utf8"), newsletter)).issue
  .id;
await database.query(sql`insert into subscribers (email, status, consent_source) values
  ('refused.reader@readers.test', 'active', 'admin'), ('full.reader@readers.test', 'active', 'admin'),
  ('bounced.reader@readers.test', 'active', 'admin')`);
await staffMember(db, "admin@staff.test", "admin");
await staffMember(db, "editor@staff.test", "editor");
const admin = await signIn(app, "admin@staff.test");
const editor = await signIn(app, "editor@staff.test");

// A send whose answers and bounce report quote the readers' addresses, as real servers do.
const started = await admin.post(`/admin/issues/${issueId}/send`, { confirm: "3" });
const sendId = started.headers.get("location")?.split("/").pop() ?? "";
await admin.post(`/admin/sends/${sendId}/cancel`);
const deliveryOf = async (email: string) =>
  (
    await database.query<{
      id: number;
    }>(sql`select d.id from deliveries d join subscribers s on s.id = d.subscriber_id
      where d.send_id = ${sendId} and s.email = ${email}`)
  )[0]?.id;
await database.query(sql`update deliveries set status = 'failed',
  last_response = '550 5.1.1 <refused.reader@readers.test>: Recipient address rejected' where id = ${await deliveryOf("refused.reader@readers.test")}`);
await database.query(sql`update deliveries set status = 'deferred',
  last_response = '452 4.2.2 full.reader: mailbox over quota' where id = ${await deliveryOf("full.reader@readers.test")}`);
await database.query(sql`insert into bounces (delivery_id, subscriber_id, type, reason, status, diagnostic, source)
  select ${await deliveryOf("bounced.reader@readers.test")}, id, 'hard', 'user_unknown', '5.1.1',
    'smtp; 550 user bounced.reader@readers.test does not exist', 'dsn'
  from subscribers where email = 'bounced.reader@readers.test'`);

const readerWords = ["refused.reader", "full.reader", "bounced.reader", "does not exist", "over quota"];
const pages = [
  "/admin",
  "/admin/issues",
  `/admin/issues/${issueId}`,
  `/admin/sends/${sendId}`,
  `/admin/sends/${sendId}/live`,
  `/admin/sends/${sendId}/events`,
];

describe("an editor following a send", () => {
  it("sees counts and reasons but no reader's address or diagnostic on any page or in the event stream, where an admin sees them", async () => {
    for (const path of pages) {
      const res = await editor.get(path);
      expect(res.status, path).toBe(200);
      const body = await res.text();
      for (const word of readerWords) expect(body, `${path} shows "${word}"`).not.toContain(word);
    }
    const page = await (await editor.get(`/admin/sends/${sendId}`)).text();
    expect(page).toContain("5.1.x unknown address");
    expect(page).toContain("4xx mailbox full");
    expect(page).toContain("user_unknown");
    const events = await (await editor.get(`/admin/sends/${sendId}/events`)).text();
    const last = JSON.parse(
      events
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .at(-1)
        ?.slice(6) ?? "{}",
    );
    expect(last).toMatchObject({ failed: 1, deferred: 1, status: "cancelled" });
    expect(last.reasons).toEqual([
      { status: "deferred", reason: "4xx mailbox full", count: 1 },
      { status: "failed", reason: "5.1.x unknown address", count: 1 },
    ]);

    // An admin still reads whose mail failed and what the servers said.
    const adminPage = await (await admin.get(`/admin/sends/${sendId}`)).text();
    for (const word of ["refused.reader@readers.test", "bounced.reader@readers.test", "does not exist"])
      expect(adminPage).toContain(word);
    const adminEvents = await (await admin.get(`/admin/sends/${sendId}/events`)).text();
    expect(adminEvents).toContain("<refused.reader@readers.test>: Recipient address rejected");
    expect(await (await admin.get(`/admin/sends/${sendId}/live`)).text()).toContain(
      "bounced.reader@readers.test",
    );
  });
});

describe("the editor's view of a status", () => {
  it("keeps every count and reason and drops every example answer, the report's too", async () => {
    const full = await loadSendStatus(database, sendId);
    const view = forEditors(full);
    expect(JSON.stringify(view)).not.toContain("refused.reader");
    expect(view.report?.failed).toEqual([{ reason: "5.1.x unknown address", count: 1 }]);
    expect({ ...view, reasons: [], report: null }).toEqual({ ...full, reasons: [], report: null });
  });
});
