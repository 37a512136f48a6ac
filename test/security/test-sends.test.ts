import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import { digest } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import { exampleIssue, type Pipeline, pipeline, storeIssue } from "../sending/harness.js";

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

describe("a published issue", () => {
  it("refuses another text under its volume in digest send, exit 2, naming the volume and the date, and sends nothing", async () => {
    // The second test above published Vol 2.6.
    const file = join(mkdtempSync(join(tmpdir(), "digest-frozen-")), "vol-2-6.md");
    writeFileSync(file, exampleIssue.replace("oil spill", "oil slick"));
    const prefix = uniquePrefix("frozen");
    const before = outbox.messages.length;
    const r = digest(["send", file, "--test", "editor@example.org"], {
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: sharedRedisUrl,
        QUEUE_PREFIX: prefix,
        SECRET: "s".repeat(40),
      },
    });
    await dropPrefix(prefix);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Vol 2\.6 was published on \d{4}-\d{2}-\d{2}.*frozen/);
    const [sends] = await database.query<{ n: number }>(sql`select count(*)::int as n from sends`);
    expect(sends?.n).toBe(2);
    expect(outbox.messages.length).toBe(before);
  });
});
