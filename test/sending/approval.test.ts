import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, describe, expect, it } from "vitest";
import { query } from "../../src/db/database.js";
import { renditionHash, renditionHashSql } from "../../src/issues/approval.js";
import { PublishedIssueError, saveIssue } from "../../src/issues/store.js";
import { approveSend } from "../../src/sending/approval.js";
import { controlSend } from "../../src/sending/control.js";
import { enqueueBatches, planDeliveries, startSend } from "../../src/sending/plan.js";
import { loadSendStatus } from "../../src/sending/status.js";
import { createTestDatabase } from "../helpers/db.js";
import { type CapturedMessage, startSmtpCapture } from "../helpers/smtp.js";
import { addReaders, newsletter, pipeline, sendStatusOf, waitUntil } from "./harness.js";

/** What an admin approved is what goes out (SPEC §6): real sends, a real SMTP server. */
const database = await createTestDatabase();
const smtp = await startSmtpCapture();
const p = await pipeline(database, smtp.url);
afterAll(async () => {
  await p.close();
  await smtp.close();
});
await addReaders(database, 3);
await p.startWorker();

const editor = { email: "editor@staff.test" };
const admin = { email: "admin@staff.test" };

/** One issue file: the same volume with another story is "the editor saves it again". */
function issueText(volume: string, story: string): string {
  return `---\nvolume: "${volume}"\ndate: 2026-11-30\nsubject: News ${volume}\n---\n## A story\n\n${story}\n`;
}
const approvedStory = "APPROVED-ORIGINAL-TEXT of the story.";
const lateStory = "EDITOR-LATE-CHANGE: see [our offer](https://late.example.net/offer).";

const textOf = async (m: CapturedMessage) => (await simpleParser(m.raw)).text ?? "";
const messagesOf = (sendId: string) =>
  smtp.messages.filter((m) => m.raw.toString("latin1").includes(`Message-ID: <${sendId}.`));
/** Makes a scheduled send due now, as if its time had come. */
const makeDue = (sendId: string) =>
  database.query(sql`update sends set scheduled_at = now() - interval '1 second' where id = ${sendId}`);
const inAMinute = () => new Date(Date.now() + 60_000);

describe("an editor's change after an admin scheduled the send", { timeout: 60_000 }, () => {
  it("never reaches a reader: the send waits for an admin, then mails the text the admin approved", async () => {
    const { issue } = await saveIssue(database.db, issueText("31.1", approvedStory), newsletter);
    const scheduled = await startSend(p.plan, { issueId: issue.id, at: inAMinute() });
    expect(scheduled.status).toBe("scheduled");

    const edited = await saveIssue(database.db, issueText("31.1", lateStory), newsletter, "issue", editor);
    await makeDue(scheduled.sendId);
    // Three reconcile rounds of the worker: a send that may start has started by then.
    await new Promise((r) => setTimeout(r, 3500));
    expect(messagesOf(scheduled.sendId)).toHaveLength(0);
    expect(await sendStatusOf(database, scheduled.sendId)).toBe("scheduled");
    expect(edited.unapprovedSends).toEqual([scheduled.sendId]);

    const approved = await approveSend(p.plan, admin, scheduled.sendId);
    expect(approved).toMatchObject({ status: "scheduled", enqueued: true });
    await waitUntil(async () => messagesOf(scheduled.sendId).length === 3, 20_000, "three messages");
    for (const m of messagesOf(scheduled.sendId)) {
      const text = await textOf(m);
      expect(text).toContain("EDITOR-LATE-CHANGE");
      expect(text).not.toContain("APPROVED-ORIGINAL-TEXT");
    }
    await waitUntil(async () => (await sendStatusOf(database, scheduled.sendId)) === "done");
  });

  it("says so: the status JSON names the reason and the audit log names the editor", async () => {
    const { issue } = await saveIssue(database.db, issueText("31.2", approvedStory), newsletter);
    const { sendId } = await startSend(p.plan, { issueId: issue.id, at: inAMinute() });
    const before = await loadSendStatus(database, sendId);
    expect(before).toMatchObject({ status: "scheduled", pausedReason: null, needsApproval: false });

    await saveIssue(database.db, issueText("31.2", lateStory), newsletter, "issue", editor);
    const status = await loadSendStatus(database, sendId);
    expect(status).toMatchObject({ status: "scheduled", needsApproval: true });
    expect(status.pausedReason).toContain(
      "Vol 31.2 was changed by editor@staff.test after this send was approved",
    );
    // Keys scripts already read are all still there.
    for (const key of ["queued", "sent", "ambiguous", "rate", "secondsLeft", "reasons"])
      expect(status).toHaveProperty(key);
    const audit = await database.query<{ actor: string; action: string }>(
      sql`select actor, action from audit_log where target = ${sendId} order by id`,
    );
    expect(audit).toEqual([{ actor: "editor@staff.test", action: "send.unapproved" }]);

    await approveSend(p.plan, admin, sendId);
    expect(await loadSendStatus(database, sendId)).toMatchObject({
      needsApproval: false,
      pausedReason: null,
    });
    const after = await database.query<{ actor: string; action: string }>(
      sql`select actor, action from audit_log where target = ${sendId} order by id`,
    );
    expect(after.map((a) => a.action)).toEqual(["send.unapproved", "send.approve"]);
    await controlSend(p.plan, sendId, "cancel");
  });

  it("storing the same text again un-approves nothing", async () => {
    const { issue } = await saveIssue(database.db, issueText("31.3", approvedStory), newsletter);
    const { sendId } = await startSend(p.plan, { issueId: issue.id, at: inAMinute() });
    const again = await saveIssue(database.db, issueText("31.3", approvedStory), newsletter, "issue", editor);
    expect(again.unapprovedSends).toEqual([]);
    expect(await loadSendStatus(database, sendId)).toMatchObject({ needsApproval: false });
    await controlSend(p.plan, sendId, "cancel");
  });

  it("an approval for a text the admin was not shown is refused, and the send keeps waiting", async () => {
    const { issue } = await saveIssue(database.db, issueText("31.4", approvedStory), newsletter);
    const { sendId } = await startSend(p.plan, { issueId: issue.id, at: inAMinute() });
    await saveIssue(database.db, issueText("31.4", lateStory), newsletter, "issue", editor);
    await expect(approveSend(p.plan, admin, sendId, "0".repeat(32))).rejects.toThrow(
      /Vol 31.4 changed after it was shown to you/,
    );
    expect(await loadSendStatus(database, sendId)).toMatchObject({ needsApproval: true });
    await controlSend(p.plan, sendId, "cancel");
  });

  it("a send whose issue no longer holds the approved text does not start: it waits for an admin", async () => {
    const { issue } = await saveIssue(database.db, issueText("31.5", approvedStory), newsletter);
    const { sendId } = await startSend(p.plan, { issueId: issue.id, at: inAMinute() });
    // A write that goes around the store (a hand-made UPDATE, a restored backup): not approved either,
    // and starting would publish it (archive, "view in browser", PDF) beside the approved mail.
    await database.query(
      sql`update issues set html = replace(html, 'APPROVED-ORIGINAL-TEXT', 'ROGUE-ROW-TEXT'),
        text = replace(text, 'APPROVED-ORIGINAL-TEXT', 'ROGUE-ROW-TEXT') where id = ${issue.id}`,
    );
    await makeDue(sendId);
    await waitUntil(
      async () => (await loadSendStatus(database, sendId)).needsApproval,
      20_000,
      "the send to need an admin",
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(messagesOf(sendId)).toHaveLength(0);
    const status = await loadSendStatus(database, sendId);
    expect(status).toMatchObject({ status: "scheduled", needsApproval: true });
    expect(status.pausedReason).toContain("Vol 31.5 holds another text than the one approved for this send");
    const [published] = await database.query<{ published: boolean }>(
      sql`select published_at is not null as published from issues where id = ${issue.id}`,
    );
    expect(published?.published).toBe(false);
    const audit = await database.query<{ actor: string; action: string }>(
      sql`select actor, action from audit_log where target = ${sendId} order by id`,
    );
    expect(audit).toEqual([{ actor: "worker", action: "send.unapproved" }]);

    // An admin who approves the text stored now gets exactly that text mailed.
    await approveSend(p.plan, admin, sendId);
    await waitUntil(async () => messagesOf(sendId).length === 3, 20_000, "three messages");
    for (const m of messagesOf(sendId)) expect(await textOf(m)).toContain("ROGUE-ROW-TEXT");
  });

  it("a worker mails nothing from a send copy that is not the text an admin approved", async () => {
    const { issue } = await saveIssue(database.db, issueText("31.6", approvedStory), newsletter);
    const { sendId } = await startSend(p.plan, { issueId: issue.id, at: inAMinute() });
    // The send's own copy rewritten without an approval (a bug, a hand-made UPDATE), and the send
    // started by a path that does not look: the worker is the last one that can refuse.
    await database.query(
      sql`update sends set html = replace(html, 'APPROVED-ORIGINAL-TEXT', 'ROGUE-COPY-TEXT'),
        text = replace(text, 'APPROVED-ORIGINAL-TEXT', 'ROGUE-COPY-TEXT') where id = ${sendId}`,
    );
    await database.db.transaction(async (tx) => {
      await query(tx, sql`update sends set status = 'running', started_at = now() where id = ${sendId}`);
      await planDeliveries(tx, sendId);
    });
    await enqueueBatches(p.plan, sendId);
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "paused", 20_000, "paused");
    await new Promise((r) => setTimeout(r, 1500));
    expect(messagesOf(sendId)).toHaveLength(0);
    const status = await loadSendStatus(database, sendId);
    expect(status).toMatchObject({ status: "paused", queued: 3 });
    expect(status.pausedReason).toContain("is not the text an admin approved");
    // Resuming does not get around it.
    await controlSend(p.plan, sendId, "resume");
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "paused", 20_000, "paused again");
    expect(messagesOf(sendId)).toHaveLength(0);
    await controlSend(p.plan, sendId, "cancel");
  });

  it("a second change while the send waits is said again, naming who made it", async () => {
    const { issue } = await saveIssue(database.db, issueText("31.7", approvedStory), newsletter);
    const { sendId } = await startSend(p.plan, { issueId: issue.id, at: inAMinute() });
    await saveIssue(database.db, issueText("31.7", lateStory), newsletter, "issue", editor);
    const other = { email: "other-editor@staff.test" };
    const second = await saveIssue(
      database.db,
      issueText("31.7", "SECOND-CHANGE: [click](https://second.example.net/)"),
      newsletter,
      "issue",
      other,
    );
    expect(second.unapprovedSends).toEqual([sendId]);
    const status = await loadSendStatus(database, sendId);
    expect(status.pausedReason).toContain("Vol 31.7 was changed by other-editor@staff.test");
    const audit = await database.query<{ actor: string; action: string }>(
      sql`select actor, action from audit_log where target = ${sendId} order by id`,
    );
    expect(audit).toEqual([
      { actor: "editor@staff.test", action: "send.unapproved" },
      { actor: "other-editor@staff.test", action: "send.unapproved" },
    ]);
    await controlSend(p.plan, sendId, "cancel");
  });
});

describe("once a send has started", { timeout: 60_000 }, () => {
  it("the issue is published and frozen: a different text is refused and readers get the started text", async () => {
    const { issue } = await saveIssue(database.db, issueText("32.1", approvedStory), newsletter);
    const { sendId } = await startSend(p.plan, { issueId: issue.id });
    await controlSend(p.plan, sendId, "pause");
    const refused = saveIssue(database.db, issueText("32.1", lateStory), newsletter, "issue", editor);
    await expect(refused).rejects.toBeInstanceOf(PublishedIssueError);
    await expect(refused).rejects.toThrow(/Vol 32.1 was published on \d{4}-\d\d-\d\d/);
    expect(await loadSendStatus(database, sendId)).toMatchObject({ needsApproval: false });
    await controlSend(p.plan, sendId, "resume");
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done");
    for (const m of messagesOf(sendId)) expect(await textOf(m)).toContain("APPROVED-ORIGINAL-TEXT");
  });
});

describe("test sends", { timeout: 60_000 }, () => {
  it("are not held by an edit: they go out to staff at once, with the text staff asked to test", async () => {
    const { issue } = await saveIssue(database.db, issueText("33.1", approvedStory), newsletter);
    const real = await startSend(p.plan, { issueId: issue.id, at: inAMinute() });
    const test = await startSend(p.plan, { issueId: issue.id, test: ["me@staff.test"] });
    const edited = await saveIssue(database.db, issueText("33.1", lateStory), newsletter, "issue", editor);
    expect(edited.unapprovedSends).toEqual([real.sendId]);
    const after = await startSend(p.plan, { issueId: issue.id, test: ["me@staff.test"] });
    await waitUntil(async () => messagesOf(test.sendId).length + messagesOf(after.sendId).length === 2);
    expect(await loadSendStatus(database, test.sendId)).toMatchObject({
      needsApproval: false,
      pausedReason: null,
    });
    const [first] = messagesOf(test.sendId);
    const [second] = messagesOf(after.sendId);
    expect(first && (await textOf(first))).toContain("APPROVED-ORIGINAL-TEXT");
    expect(second && (await textOf(second))).toContain("EDITOR-LATE-CHANGE");
    expect((await simpleParser(second?.raw ?? "")).subject).toBe("[TEST] News 33.1");
    await controlSend(p.plan, real.sendId, "cancel");
  });
});

describe("the approved fingerprint", () => {
  it("is the same whether Postgres or Node computes it, for any text", async () => {
    const texts = [
      {
        subject: 'Quotes " and \\ back',
        html: "<p>日本語 🎉 \u2028 </script></p>",
        text: "tab\tnl\ncr\r\u0001\u007f",
      },
      { subject: "", html: "", text: "" },
    ];
    for (const r of texts) {
      const [row] = await database.query<{ hash: string }>(
        sql`select ${renditionHashSql(sql`${r.subject}`, sql`${r.html}`, sql`${r.text}`)} as hash`,
      );
      expect(row?.hash).toBe(renditionHash(r));
    }
  });
});
