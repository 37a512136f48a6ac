import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, describe, expect, it } from "vitest";
import { digestAsync } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";
import { startSmtpCapture } from "../helpers/smtp.js";
import { pipeline, waitUntil } from "../sending/harness.js";

/** `digest send FILE` of a changed file after the send was scheduled: the CLI half of SPEC §6's approval. */
const database = await createTestDatabase();
const prefix = uniquePrefix("approval");
const smtp = await startSmtpCapture();
const workers = await pipeline(database, smtp.url, { prefix });
afterAll(async () => {
  await workers.close();
  await smtp.close();
  await dropPrefix(prefix);
});
const worker = await workers.startWorker();
const env = {
  DATABASE_URL: database.url,
  REDIS_URL: sharedRedisUrl,
  QUEUE_PREFIX: prefix,
  SECRET: "a-test-secret-that-is-long-enough-0123456789",
  TIMEZONE: "UTC",
};
await database.query(sql`insert into subscribers (email, status, consent_source)
  select 'r' || i || '@readers.test', 'active', 'admin' from generate_series(1, 3) as i`);

// Not spawnSync: the worker runs in this process and goes on working while a command runs.
const digest = (args: string[]) => digestAsync(args, { env });

const file = join(mkdtempSync(join(tmpdir(), "digest-approval-")), "vol-51-1.md");
const write = (story: string) =>
  writeFileSync(
    file,
    `---\nvolume: "51.1"\ndate: 2026-11-30\nsubject: News 51.1\n---\n## A story\n\n${story}\n`,
  );
const messagesOf = (sendId: string) =>
  smtp.messages.filter((m) => m.raw.toString("latin1").includes(`Message-ID: <${sendId}.`));

describe("digest send FILE of a file changed after the send was scheduled", { timeout: 120_000 }, () => {
  it("un-approves the send and says so; nothing goes out until `digest resume --yes`, then the new text", async () => {
    write("APPROVED-ORIGINAL-TEXT of the story.");
    const scheduled = await digest(["send", file, "--at", "2099-06-01T09:00:00Z", "--yes"]);
    expect(scheduled.code, scheduled.stderr).toBe(0);
    const sendId = scheduled.stdout.trim();

    write("EDITOR-LATE-CHANGE: see [our offer](https://late.example.net/offer).");
    const again = await digest(["send", file, "--yes"]);
    await database.query(
      sql`update sends set scheduled_at = now() - interval '1 second' where id = ${sendId}`,
    );
    // Instead of a fixed wait: two passes of the reconciler that starts due sends (the second begun
    // after the update), then until no delivery job is left to run, so any mail it let out is here.
    await worker.reconcileNow();
    await worker.reconcileNow();
    await waitUntil(
      async () => {
        const jobs = await workers.queue.getJobCounts("waiting", "active", "prioritized");
        return Object.values(jobs).every((n) => n === 0);
      },
      20_000,
      "no delivery job left to run",
    );
    expect(messagesOf(sendId)).toHaveLength(0);

    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`note: send ${sendId} was approved for the earlier text of vol-51-1`);
    expect(again.stderr).toContain(`approve it with \`digest resume ${sendId}\``);

    const [asJson, asText] = await Promise.all([
      digest(["status", sendId, "--json"]),
      digest(["status", sendId]),
    ]);
    const json = JSON.parse(asJson.stdout);
    expect(json).toMatchObject({ sendId, status: "scheduled", needsApproval: true, queued: 0, ambiguous: 0 });
    expect(json.pausedReason).toContain("Vol 51.1 was changed by cli after this send was approved");
    const text = asText.stdout;
    expect(text).toMatch(/needs an admin again \(scheduled for (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\)/);
    expect(text).toContain(`approve the new text with: digest resume ${sendId}`);
    const audit = await database.query<{ actor: string; action: string }>(
      sql`select actor, action from audit_log where target = ${sendId}`,
    );
    expect(audit).toEqual([{ actor: "cli", action: "send.unapproved" }]);

    // Without a terminal, approving needs --yes, as a send does; nothing changes without it.
    const unconfirmed = await digest(["resume", sendId]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("3 active readers");
    expect(unconfirmed.stderr).toContain("--yes");
    expect(JSON.parse((await digest(["status", sendId, "--json"])).stdout)).toMatchObject({
      needsApproval: true,
    });

    const approved = await digest(["resume", sendId, "--yes"]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toBe(`${sendId} scheduled\n`);
    await waitUntil(async () => messagesOf(sendId).length === 3, 20_000, "three messages");
    for (const m of messagesOf(sendId)) {
      const body = (await simpleParser(m.raw)).text ?? "";
      expect(body).toContain("EDITOR-LATE-CHANGE");
      expect(body).not.toContain("APPROVED-ORIGINAL-TEXT");
    }
  });
});
