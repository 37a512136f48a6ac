import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, describe, expect, it } from "vitest";
import { signIn, staffMember } from "../console/session.js";
import { pipeline, waitUntil } from "../sending/harness.js";
import { bearer, startService } from "./harness.js";

/**
 * What an admin approved is what goes out, through the admin API and the console: an edit after
 * scheduling un-approves the send, says so, and readers get only a text an admin approved.
 */
const service = await startService({ worker: false, sending: true });
const { app, database, smtp } = service;
// A delivery worker on the service's own queue, mailing to the service's SMTP capture.
const workers = await pipeline(database, smtp.url, { prefix: service.settings.queuePrefix });
afterAll(() => workers.close());
await workers.startWorker();
await database.query(sql`insert into subscribers (email, status, consent_source)
  select 'r' || i || '@readers.test', 'active', 'admin' from generate_series(1, 4) as i`);

const issueText = (volume: string, story: string) =>
  `---\nvolume: "${volume}"\ndate: 2026-11-30\nsubject: News ${volume}\n---\n## A story\n\n${story}\n`;
const approvedStory = "APPROVED-ORIGINAL-TEXT of the story.";
const lateStory = "EDITOR-LATE-CHANGE: see [our offer](https://late.example.net/offer).";
const inAMinute = () => new Date(Date.now() + 60_000).toISOString();

const api = (path: string, body?: unknown, type = "application/json") =>
  app.request(path, {
    method: "POST",
    headers: { ...bearer, "content-type": type },
    body: body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body),
  });
const statusOf = async (sendId: string) =>
  (await (await app.request(`/api/sends/${sendId}`, { headers: bearer })).json()) as Record<string, unknown>;
const messagesOf = (sendId: string) =>
  smtp.messages.filter((m) => m.raw.toString("latin1").includes(`Message-ID: <${sendId}.`));
const makeDue = (sendId: string) =>
  database.query(sql`update sends set scheduled_at = now() - interval '1 second' where id = ${sendId}`);
const auditOf = (sendId: string) =>
  database.query<{ actor: string; action: string }>(
    sql`select actor, action from audit_log where target = ${sendId} order by id`,
  );

describe("POST /api/issues after an admin scheduled the send", { timeout: 60_000 }, () => {
  it("un-approves the send: nothing goes out until an admin approves with the count, then the new text", async () => {
    const created = await api("/api/issues", issueText("41.1", approvedStory), "text/markdown");
    expect(created.status).toBe(201);
    const { id: issueId } = (await created.json()) as { id: string };
    const start = await api(`/api/issues/${issueId}/sends`, { confirm: 4, at: inAMinute() });
    expect(start.status).toBe(202);
    const { sendId } = (await start.json()) as { sendId: string };

    const edit = await api("/api/issues", issueText("41.1", lateStory), "text/markdown");
    expect(edit.status).toBe(200);
    const edited = (await edit.json()) as { unapprovedSends: string[]; notice: string };
    await makeDue(sendId);
    await new Promise((r) => setTimeout(r, 3500));
    expect(messagesOf(sendId)).toHaveLength(0);

    expect(edited.unapprovedSends).toEqual([sendId]);
    expect(edited.notice).toContain(`${sendId} will not start until an admin approves again`);
    const status = await statusOf(sendId);
    expect(status).toMatchObject({ status: "scheduled", needsApproval: true });
    expect(status.pausedReason).toContain("Vol 41.1 was changed by api after this send was approved");
    expect(await auditOf(sendId)).toEqual([{ actor: "api", action: "send.unapproved" }]);

    // Resuming is approving: without the count, or with another one, nothing changes.
    for (const body of [undefined, { confirm: 3 }]) {
      const res = await api(`/api/sends/${sendId}/resume`, body);
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({ activeReaders: 4 });
    }
    expect((await api(`/api/sends/${sendId}/resume`, { confirm: 4, rendition: "x".repeat(32) })).status).toBe(
      409,
    );
    expect((await api(`/api/sends/${sendId}/resume`, "{nope")).status).toBe(400);
    expect(messagesOf(sendId)).toHaveLength(0);

    const approve = await api(`/api/sends/${sendId}/resume`, { confirm: 4 });
    expect(approve.status).toBe(200);
    await waitUntil(async () => messagesOf(sendId).length === 4, 20_000, "four messages");
    for (const m of messagesOf(sendId)) {
      const text = (await simpleParser(m.raw)).text ?? "";
      expect(text).toContain("EDITOR-LATE-CHANGE");
      expect(text).not.toContain("APPROVED-ORIGINAL-TEXT");
    }
    expect((await auditOf(sendId)).map((a) => a.action)).toEqual(["send.unapproved", "send.approve"]);
  });

  it("a send that names the rendition it was shown is refused (409) once the text changed", async () => {
    const created = await api("/api/issues", issueText("41.2", approvedStory), "text/markdown");
    const { id, rendition } = (await created.json()) as { id: string; rendition: string };
    await api("/api/issues", issueText("41.2", lateStory), "text/markdown");
    const res = await api(`/api/issues/${id}/sends`, { confirm: 4, rendition });
    expect(res.status).toBe(409);
    const [n] = await database.query<{ n: number }>(
      sql`select count(*)::int as n from sends where issue_id = ${id}`,
    );
    expect(n?.n).toBe(0);
  });
});

describe("the console after an editor changed a scheduled issue", { timeout: 60_000 }, () => {
  it("shows the notice on the overview, the issue page and the send page, and an admin approves there", async () => {
    await staffMember(database.db, "admin@staff.test", "admin");
    await staffMember(database.db, "editor@staff.test", "editor");
    const admin = await signIn(app, "admin@staff.test");
    const editor = await signIn(app, "editor@staff.test");
    const created = await editor.post("/admin/issues", { markdown: issueText("42.1", approvedStory) });
    const issuePath = created.headers.get("location") ?? "";
    const page = await (await admin.get(issuePath)).text();
    const rendition = page.match(/name="rendition" value="([0-9a-f]+)"/)?.[1] ?? "";
    expect(rendition).toMatch(/^[0-9a-f]{32}$/);
    const scheduled = await admin.post(`${issuePath}/send`, {
      confirm: "4",
      at: "2099-01-02T09:30",
      rendition,
    });
    expect(scheduled.status).toBe(303);
    const sendPath = scheduled.headers.get("location") ?? "";
    const sendId = sendPath.split("/").at(-1) ?? "";

    expect((await editor.post("/admin/issues", { markdown: issueText("42.1", lateStory) })).status).toBe(303);
    const overview = await (await admin.get("/admin")).text();
    expect(overview).toContain("A scheduled send waits");
    expect(overview).toContain(`href="/admin/sends/${sendId}"`);
    expect(await (await admin.get(issuePath)).text()).toContain(
      "This issue changed after a send was approved",
    );
    const sendPage = await (await admin.get(sendPath)).text();
    expect(sendPage).toContain("Waits for an admin:");
    expect(sendPage).toContain("was changed by editor@staff.test after this send was approved");
    expect(sendPage).toContain(`action="/admin/sends/${sendId}/approve"`);
    // An editor sees the notice but cannot approve.
    const editorView = await (await editor.get(sendPath)).text();
    expect(editorView).toContain("Waits for an admin:");
    expect(editorView).not.toContain(`action="/admin/sends/${sendId}/approve"`);
    expect((await editor.post(`${sendPath}/approve`, { confirm: "4" })).status).toBe(403);

    const fresh = sendPage.match(/name="rendition" value="([0-9a-f]+)"/)?.[1] ?? "";
    expect((await admin.post(`${sendPath}/approve`, { confirm: "3", rendition: fresh })).status).toBe(422);
    expect((await admin.post(`${sendPath}/approve`, { confirm: "4", rendition })).status).toBe(422);
    expect(await statusOf(sendId)).toMatchObject({ needsApproval: true });
    // Moving it would make a new, approved send without anyone approving the new text.
    expect((await admin.post(`${sendPath}/move`, { at: "2099-02-02T09:30" })).status).toBe(409);

    expect((await admin.post(`${sendPath}/approve`, { confirm: "4", rendition: fresh })).status).toBe(303);
    expect(await statusOf(sendId)).toMatchObject({
      status: "scheduled",
      needsApproval: false,
      pausedReason: null,
    });
    expect(await (await admin.get("/admin")).text()).not.toContain("A scheduled send waits");
    const audit = await auditOf(sendId);
    expect(audit).toEqual([
      { actor: "admin@staff.test", action: "send.schedule" },
      { actor: "editor@staff.test", action: "send.unapproved" },
      { actor: "admin@staff.test", action: "send.approve" },
    ]);
  });

  it("refuses a send confirmed on a page that showed an older text (422, nothing sent)", async () => {
    const admin = await signIn(app, "admin@staff.test");
    const editor = await signIn(app, "editor@staff.test");
    const created = await editor.post("/admin/issues", { markdown: issueText("42.2", approvedStory) });
    const issuePath = created.headers.get("location") ?? "";
    const page = await (await admin.get(issuePath)).text();
    const rendition = page.match(/name="rendition" value="([0-9a-f]+)"/)?.[1] ?? "";
    await editor.post("/admin/issues", { markdown: issueText("42.2", lateStory) });
    const res = await admin.post(`${issuePath}/send`, { confirm: "4", rendition });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("Vol 42.2 changed after it was shown to you");
    const [n] = await database.query<{ n: number }>(
      sql`select count(*)::int as n from sends s join issues i on i.id = s.issue_id where i.slug = 'vol-42-2'`,
    );
    expect(n?.n).toBe(0);
  });
});
