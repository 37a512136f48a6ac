import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { subscribers } from "../../src/db/schema.js";
import { checkIssue } from "../../src/issues/lint.js";
import { messageId, readerLinks } from "../../src/sending/reader-links.js";
import { buildTemplate, spliceMessage } from "../../src/sending/template.js";
import { unsubscribeLinkRequest } from "../../src/subscribers/notify.js";
import { exampleIssue } from "../sending/harness.js";
import { form, parsed, secret, startService } from "./harness.js";

/**
 * SPEC §4: link scanners in mail gateways fetch every link in a mail, so no link in any mail Digest
 * sends may change anything when it is merely fetched. Each mail is the one a reader really gets
 * (caught by the test SMTP server, or built by the send pipeline's own template for an issue).
 */
const service = await startService();
const { app, database, smtp } = service;
const email = "scanned-reader@example.org";
const base = "http://localhost:3000";

const rowOf = async () =>
  (await database.db.select().from(subscribers).where(eq(subscribers.email, email)))[0];

async function nextMail(subject: string): Promise<Buffer> {
  const find = () =>
    smtp.messages.find((m) => m.to.includes(email) && String(m.raw).includes(`Subject: ${subject}`));
  await expect.poll(() => find() !== undefined, { timeout: 15_000 }).toBe(true);
  return find()!.raw;
}

/** Every link to this service in a message: its HTML, its text and its List-Unsubscribe header. */
async function linksIn(raw: Buffer): Promise<string[]> {
  const mail = await parsed({ raw } as Parameters<typeof parsed>[0]);
  const where = `${mail.html || ""}\n${mail.text ?? ""}\n${raw.toString("latin1").split("\r\n\r\n")[0]}`;
  const found = where.match(/http:\/\/localhost:3000\/[^\s"'<>\])]*/g) ?? [];
  return [...new Set(found.map((l) => l.replaceAll("&amp;", "&")))];
}

/** The ways a machine fetches a link without a person asking for its action. */
const machineFetches: Array<[string, RequestInit]> = [
  ["GET", {}],
  ["HEAD", { method: "HEAD" }],
  ["Sec-Purpose: prefetch", { headers: { "Sec-Purpose": "prefetch" } }],
  ["Purpose: prefetch", { headers: { Purpose: "prefetch" } }],
];

/** Fetches every link every way, then checks the reader's row is as it was and no mail was caused. */
async function scanAndCheck(raw: Buffer, expectedLinks: string[]) {
  const links = await linksIn(raw);
  for (const prefix of expectedLinks)
    expect(
      links.some((l) => l.startsWith(`${base}${prefix}`)),
      prefix,
    ).toBe(true);
  const before = await rowOf();
  const mailsBefore = smtp.messages.length;
  for (const link of links) {
    for (const [how, init] of machineFetches) {
      const res = await app.request(new URL(link).pathname + new URL(link).search, init);
      expect(res.status, `${how} ${link}`).toBeLessThan(500);
      expect(await rowOf(), `${how} ${link}`).toEqual(before);
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  expect(smtp.messages.length).toBe(mailsBefore);
}

describe("every link in every mail, fetched by a link scanner", () => {
  it("changes nothing, in the confirm, welcome, unsubscribe-link, issue and goodbye mails alike", async () => {
    expect((await app.request("/subscribe", form({ email }))).status).toBe(202);
    const confirmMail = await nextMail("Confirm");
    await scanAndCheck(confirmMail, ["/confirm/"]);
    expect((await rowOf())?.status).toBe("pending");

    const [confirmLink] = (await linksIn(confirmMail)).filter((l) => l.includes("/confirm/"));
    expect((await app.request(new URL(confirmLink!).pathname, { method: "POST" })).status).toBe(200);
    expect((await rowOf())?.status).toBe("active");
    await scanAndCheck(await nextMail("Welcome"), ["/unsubscribe/", "/manage/", "/"]);

    const reader = (await rowOf())!;
    await service.deps.notify([unsubscribeLinkRequest(reader.id, new Date())]);
    await scanAndCheck(await nextMail("Your link to unsubscribe"), ["/unsubscribe/", "/manage/"]);

    const { issue, rendition } = await checkIssue(exampleIssue, service.newsletter);
    const template = await buildTemplate({
      identity: service.identity,
      subject: issue!.subject,
      rendition: rendition!,
    });
    const issueMail = spliceMessage(template, {
      ...readerLinks(service.identity, secret, { subscriberId: reader.id, email }, issue!.slug),
      messageId: messageId(service.identity, secret, "scan", 1),
    });
    await scanAndCheck(issueMail, ["/unsubscribe/", "/manage/", "/archive/"]);
    expect((await rowOf())?.status).toBe("active");

    const [unsubscribeLink] = (await linksIn(issueMail)).filter((l) => l.includes("/unsubscribe/"));
    await app.request(new URL(unsubscribeLink!).pathname, form({ "List-Unsubscribe": "One-Click" }));
    expect((await rowOf())?.status).toBe("unsubscribed");
    await scanAndCheck(await nextMail("You are unsubscribed"), ["/manage/"]);
    expect((await rowOf())?.status).toBe("unsubscribed");
  });
});
