import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, describe, expect, it } from "vitest";
import { saveIssue } from "../../src/issues/store.js";
import { startSend } from "../../src/sending/plan.js";
import { createTestDatabase } from "../helpers/db.js";
import { startSmtpCapture } from "../helpers/smtp.js";
import { addReaders, identity, newsletter, pipeline, sendStatusOf, waitUntil } from "../sending/harness.js";
import { linkedIssue, sources } from "./linked-issue.js";

/** Sends the linked issue to four readers through a worker with the given tracking settings. */
async function sendWith(settings: { trackClicks: boolean; trackOpens: boolean }) {
  const database = await createTestDatabase();
  const smtp = await startSmtpCapture();
  const pipe = await pipeline(database, smtp.url);
  afterAll(async () => {
    await pipe.close();
    await smtp.close();
  });
  const { issue } = await saveIssue(database.db, linkedIssue(identity.publicUrl), newsletter);
  await addReaders(database, 4);
  await pipe.startWorker(settings);
  const { sendId } = await startSend(pipe.plan, { issueId: issue.id });
  await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 30_000, "the send");
  const mails = await Promise.all(smtp.messages.map((m) => simpleParser(m.raw)));
  const links = await database.query<{ n: number }>(
    sql`select count(*)::int as n from send_links where send_id = ${sendId}`,
  );
  return { mails, storedLinks: links[0]!.n };
}

describe("with TRACK_CLICKS and TRACK_OPENS off (the default)", async () => {
  const { mails, storedLinks } = await sendWith({ trackClicks: false, trackOpens: false });

  it("no mail has a /r/ link or a pixel, and no link is numbered", () => {
    expect(mails).toHaveLength(4);
    for (const mail of mails) {
      expect(String(mail.html)).not.toMatch(/\/r\/|\/o\/|digest_link|digest_open/);
      expect(mail.text).not.toMatch(/\/r\/|\/o\//);
      expect(String(mail.html).replace(/&amp;/g, "&")).toContain(sources[0]);
    }
    expect(storedLinks).toBe(0);
  });
});

describe("with only TRACK_OPENS on", async () => {
  const { mails, storedLinks } = await sendWith({ trackClicks: false, trackOpens: true });

  it("mail has the pixel but plain links and no canary", () => {
    for (const mail of mails) {
      expect(String(mail.html)).toMatch(/<img src="[^"]+\/o\/[A-Za-z0-9_-]+\.gif"/);
      expect(String(mail.html)).not.toMatch(/\/r\//);
      expect(mail.text).not.toMatch(/\/r\/|\/o\//);
    }
    expect(storedLinks).toBe(0);
  });
});
