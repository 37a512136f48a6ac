import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import type { TestDatabase } from "../helpers/db.js";
import type { SmtpCapture } from "../helpers/smtp.js";
import { identity, type Pipeline, pipeline, storeIssue } from "../sending/harness.js";
import { type InboundService, startInboundService } from "./harness.js";

/**
 * Mail into the inbound server over real SMTP, with the whole service behind it: Postgres, Redis
 * queues, the transactional worker, and a real send whose bounces come back by VERP.
 */
let service: InboundService;
let database: TestDatabase;
let outbox: SmtpCapture;
let sending: Pipeline;
const domain = identity.domain;
const inbound = () => service.client();

async function statusOf(email: string): Promise<string | undefined> {
  const [row] = await database.query<{ status: string }>(
    sql`select status from subscribers where email = ${email}`,
  );
  return row?.status;
}

beforeAll(async () => {
  service = await startInboundService("inbound");
  ({ database, outbox } = service);
  sending = await pipeline(database, outbox.url);
});

afterAll(async () => {
  await sending?.close();
  await service?.close();
});

describe("mail into the inbound server", () => {
  it("subscribes a person who mails subscribe@: confirmation mailed, link clicked, reader active", async () => {
    await inbound().sendMail({
      from: "Aiko <aiko@readers.test>",
      to: `subscribe@${domain}`,
      subject: "subscribe",
      text: "",
    });
    expect(await statusOf("aiko@readers.test")).toBe("pending");
    const [confirmation] = await outbox.waitFor(1);
    expect(confirmation?.to).toEqual(["aiko@readers.test"]);
    const mail = await simpleParser(confirmation!.raw);
    const link = /http:\/\/127\.0\.0\.1:\d+\/confirm\/[a-z2-7]+/.exec(mail.text ?? "")?.[0];
    expect(link).toBeDefined();
    // Opening the link shows the button and changes nothing (SPEC §4); the button's POST confirms.
    expect((await fetch(link!)).status).toBe(200);
    expect(await statusOf("aiko@readers.test")).toBe("pending");
    const page = await fetch(link!, { method: "POST" });
    expect(page.status).toBe(200);
    expect(await statusOf("aiko@readers.test")).toBe("active");
  });

  it("suppresses a reader whose delivery of a real send comes back as a hard DSN", async () => {
    await database.query(sql`insert into subscribers (email, status, consent_source)
      values ('gone@readers.test', 'active', 'admin'), ('angry@readers.test', 'active', 'admin')`);
    const issueId = await storeIssue(database);
    await sending.startWorker();
    const before = outbox.messages.length;
    const started = await startSend(sending.plan, { issueId });
    await outbox.waitFor(before + started.deliveries);
    const sent = outbox.messages.slice(before);
    const toGone = sent.find((m) => m.to[0] === "gone@readers.test");
    expect(toGone?.from).toMatch(new RegExp(`^bounces\\+[a-z2-7]+@${domain}$`));

    const dsn = [
      `From: Mail Delivery System <MAILER-DAEMON@mx.readers.test>`,
      `To: ${toGone!.from}`,
      "Subject: Undelivered Mail Returned to Sender",
      "Auto-Submitted: auto-replied",
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain",
      "",
      "This is the mail system at host mx.readers.test. Your message could not be delivered.",
      "--b1",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.readers.test",
      "",
      "Final-Recipient: rfc822; gone@readers.test",
      "Action: failed",
      "Status: 5.1.1",
      "Diagnostic-Code: smtp; 550 5.1.1 <gone@readers.test>: Recipient address rejected: User unknown",
      "--b1--",
      "",
    ].join("\r\n");
    await inbound().sendMail({ envelope: { from: "", to: [toGone!.from] }, raw: dsn });
    expect(await statusOf("gone@readers.test")).toBe("bounced");
    const [suppressed] = await database.query<{ n: number }>(
      sql`select count(*)::int as n from suppressions`,
    );
    expect(suppressed?.n).toBe(1);
  });

  it("marks a reader complained when an ARF abuse report about our message arrives at abuse@", async () => {
    const toAngry = outbox.messages.find((m) => m.to[0] === "angry@readers.test");
    const original = toAngry!.raw.toString("utf8").split("\r\n\r\n")[0];
    const arf = [
      "From: feedback@isp.test",
      `To: abuse@${domain}`,
      "Subject: Abuse report",
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type=feedback-report; boundary="b2"',
      "",
      "--b2",
      "Content-Type: text/plain",
      "",
      "This is an email abuse report.",
      "--b2",
      "Content-Type: message/feedback-report",
      "",
      "Feedback-Type: abuse",
      "User-Agent: isp-fbl/1.0",
      "Version: 1",
      "Original-Rcpt-To: angry@readers.test",
      "--b2",
      "Content-Type: text/rfc822-headers",
      "",
      original,
      "--b2--",
      "",
    ].join("\r\n");
    await inbound().sendMail({ envelope: { from: "feedback@isp.test", to: [`abuse@${domain}`] }, raw: arf });
    expect(await statusOf("angry@readers.test")).toBe("complained");
  });

  it("applies no report that names neither a VERP token nor a message of ours, so a forger cannot stop a reader's mail", async () => {
    await database.query(
      sql`insert into subscribers (email, status, consent_source) values ('target@readers.test', 'active', 'admin')`,
    );
    const forged = (extra: string[]) =>
      [
        "From: MAILER-DAEMON@mx.attacker.test",
        `To: postmaster@${domain}`,
        "Subject: Undelivered Mail",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="f"',
        "",
        "--f",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.attacker.test",
        "",
        "Final-Recipient: rfc822; target@readers.test",
        "Action: failed",
        "Status: 5.1.1",
        "Diagnostic-Code: smtp; 550 5.1.1 <target@readers.test>: User unknown",
        "--f",
        "Content-Type: text/rfc822-headers",
        "",
        ...extra,
        "To: target@readers.test",
        "--f--",
        "",
      ].join("\r\n");
    const [delivery] = await database.query<{ id: number }>(
      sql`select id::float8 as id from deliveries order by id limit 1`,
    );
    for (const headers of [
      [],
      [`Message-ID: <00000000-0000-4000-8000-000000000000.${delivery?.id}@${domain}>`],
    ]) {
      await inbound().sendMail({
        envelope: { from: "", to: [`postmaster@${domain}`] },
        raw: forged(headers),
      });
    }
    expect(await statusOf("target@readers.test")).toBe("active");
  });

  it("does nothing for an auto-reply", async () => {
    const before = outbox.messages.length;
    await inbound().sendMail({
      from: "holiday@readers.test",
      to: `subscribe@${domain}`,
      subject: "Out of office: subscribe",
      text: "I am away until Monday.",
      headers: { "Auto-Submitted": "auto-replied" },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await statusOf("holiday@readers.test")).toBeUndefined();
    expect(outbox.messages.length).toBe(before);
  });
});
