import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import { type Pipeline, pipeline, storeIssue } from "../sending/harness.js";

/** Test mail must not look like the real thing, and must not publish the issue. */
let database: TestDatabase;
let outbox: SmtpCapture;
let sending: Pipeline;

beforeAll(async () => {
  database = await createTestDatabase();
  outbox = await startSmtpCapture();
  sending = await pipeline(database, outbox.url);
  await sending.startWorker();
});

afterAll(async () => {
  await sending?.close();
  await outbox?.close();
});

describe("a test send", () => {
  it("carries [TEST] before the subject and a banner atop both bodies, and leaves the issue a draft", async () => {
    const issueId = await storeIssue(database);
    await startSend(sending.plan, { issueId, test: ["editor@example.org"] });
    const [message] = await outbox.waitFor(1);
    const mail = await simpleParser(message!.raw);
    expect(mail.subject).toMatch(/^\[TEST\] US-Japan Alliance Digest Vol 2\.6/);
    expect(mail.html).toMatch(/<body[^>]*><div role="note"[^>]*>TEST SEND: this is a test copy/);
    expect(mail.text?.trimStart()).toMatch(/^\*\*\* TEST SEND: this is a test copy/);
    const [issue] = await database.query<{ published_at: unknown }>(
      sql`select published_at from issues where id = ${issueId}`,
    );
    expect(issue?.published_at).toBeNull();
  });

  it("is not what readers get: a real send has neither, and publishes the issue", async () => {
    await database.query(sql`insert into subscribers (email, status, consent_source)
      values ('reader@example.org', 'active', 'admin')`);
    const issueId = await storeIssue(database);
    await startSend(sending.plan, { issueId });
    const [, message] = await outbox.waitFor(2);
    const mail = await simpleParser(message!.raw);
    expect(mail.subject).toMatch(/^US-Japan Alliance Digest Vol 2\.6/);
    expect(mail.html).not.toContain("TEST SEND");
    expect(mail.text).not.toContain("TEST SEND");
    const [issue] = await database.query<{ published_at: unknown }>(
      sql`select published_at from issues where id = ${issueId}`,
    );
    expect(issue?.published_at).not.toBeNull();
  });
});
