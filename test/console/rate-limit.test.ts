import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.js";
import { saveIssue } from "../../src/issues/store.js";
import { startService } from "../http/harness.js";
import { signIn, staffMember } from "./session.js";

/** The send page names the shared rate the relay's throttling forced on the workers. */
const service = await startService({ worker: false, sending: true });
const answer = "454 Throttling failure: Maximum sending rate exceeded.";
const app = await createApp({
  ...service.deps,
  rateLimit: async () => ({ inForce: 36, configured: 200, reason: `relay throttling: ${answer}` }),
});
const { database, newsletter } = service;
const issueId = (await saveIssue(database.db, readFileSync("examples/issues/vol-2-6.md", "utf8"), newsletter))
  .issue.id;
await database.query(sql`insert into subscribers (email, status, consent_source)
  select 'r' || i || '@readers.test', 'active', 'admin' from generate_series(1, 3) as i`);
await staffMember(database.db, "admin@staff.test", "admin");
await staffMember(database.db, "editor@staff.test", "editor");
const admin = await signIn(app, "admin@staff.test");
const editor = await signIn(app, "editor@staff.test");

describe("the console send page while the relay throttles", () => {
  it("shows admins the lowered rate, SEND_RATE and the relay's answer; editors the rate and 'relay throttling' only", async () => {
    const res = await admin.post(`/admin/issues/${issueId}/send`, { confirm: "3" });
    expect(res.status).toBe(303);
    const sendId = res.headers.get("location")?.split("/").pop() ?? "";
    const adminPage = await (await admin.get(`/admin/sends/${sendId}`)).text();
    expect(adminPage).toContain(`Rate lowered to 36 /s of 200 /s: relay throttling: ${answer}`);
    const editorPage = await (await editor.get(`/admin/sends/${sendId}`)).text();
    expect(editorPage).toContain("Rate lowered to 36 /s of 200 /s: relay throttling<");
    expect(editorPage).not.toContain("Throttling failure");
  });
});
