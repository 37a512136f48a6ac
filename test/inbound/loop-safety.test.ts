import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { InboundActions } from "../../src/inbound/handle.js";
import { knownMailboxes } from "../../src/inbound/recipient.js";
import { startInboundServer } from "../../src/inbound/server.js";
import { silentLogger } from "../../src/log.js";
import { signDeliveryToken, signSubscriberToken } from "../../src/subscribers/tokens.js";
import type { TestDatabase } from "../helpers/db.js";
import type { SmtpCapture } from "../helpers/smtp.js";
import { secret } from "../sending/harness.js";
import { type InboundService, startInboundService } from "./harness.js";

/**
 * Loop safety over real SMTP, with the whole service behind it: a robot's mail to subscribe@, or a
 * robot's "subscribe" to the newsletter's own address, makes no subscriber and sends no mail, while
 * a person's plain "subscribe" still works; and every mail Digest sends on its own says so.
 */
let service: InboundService;
let database: TestDatabase;
let outbox: SmtpCapture;
let domain: string;
const many = { limit: 10_000, windowSeconds: 3600 };

beforeAll(async () => {
  service = await startInboundService("loop-safety", {
    inboundLimits: { commands: many, reports: many, signed: many },
  });
  ({ database, outbox, domain } = service);
});
afterAll(async () => {
  await service?.close();
});

async function subscriberRow(email: string) {
  const [row] = await database.query<{ id: string; status: string }>(
    sql`select id, status from subscribers where email = ${email}`,
  );
  return row;
}

interface Robot {
  name: string;
  headers?: Record<string, string>;
  /** An out-of-office subject; the command is then the first line of the body. */
  subject?: string;
  envelopeFrom?: string;
}

const robots: Robot[] = [
  { name: "Precedence: auto_reply", headers: { Precedence: "auto_reply" } },
  { name: "Precedence: bulk", headers: { Precedence: "bulk" } },
  { name: "Precedence: list", headers: { Precedence: "list" } },
  { name: "Precedence: junk", headers: { Precedence: "junk" } },
  { name: "Auto-Submitted: auto-replied", headers: { "Auto-Submitted": "auto-replied" } },
  { name: "Auto-Submitted: auto-generated", headers: { "Auto-Submitted": "auto-generated" } },
  { name: "Auto-Submitted: auto-notified", headers: { "Auto-Submitted": "auto-notified" } },
  { name: "Exchange's X-Auto-Response-Suppress", headers: { "X-Auto-Response-Suppress": "All" } },
  {
    name: "Exchange's X-MS-Exchange-Inbox-Rules-Loop",
    headers: { "X-MS-Exchange-Inbox-Rules-Loop": "someone@corp.test" },
  },
  { name: "X-Autoreply", headers: { "X-Autoreply": "yes" } },
  { name: "X-Autorespond", headers: { "X-Autorespond": "Thank you for your mail" } },
  { name: "iCloud's X-Apple-Action: VACATION", headers: { "X-Apple-Action": "VACATION" } },
  { name: "List-Id", headers: { "List-Id": "Friends <friends.lists.corp.test>" } },
  { name: "List-Unsubscribe", headers: { "List-Unsubscribe": "<mailto:leave@lists.corp.test>" } },
  { name: "List-Post", headers: { "List-Post": "<mailto:friends@lists.corp.test>" } },
  { name: "List-Help", headers: { "List-Help": "<mailto:help@lists.corp.test>" } },
  { name: "List-Subscribe", headers: { "List-Subscribe": "<mailto:join@lists.corp.test>" } },
  { name: "List-Owner", headers: { "List-Owner": "<mailto:owner@lists.corp.test>" } },
  { name: "List-Archive", headers: { "List-Archive": "<https://lists.corp.test/friends/>" } },
  { name: 'Outlook\'s "Automatic reply:"', subject: "Automatic reply: subscribe" },
  { name: '"Out of Office:"', subject: "Out of Office: subscribe" },
  { name: 'Notes\' "Auto:"', subject: "Auto: subscribe" },
  { name: 'German "Abwesenheitsnotiz:"', subject: "Abwesenheitsnotiz: subscribe" },
  { name: 'German "Automatische Antwort:"', subject: "Automatische Antwort: subscribe" },
  { name: 'French "Réponse automatique :"', subject: "Réponse automatique : subscribe" },
  { name: 'French "Absence :"', subject: "Absence : subscribe" },
  { name: 'Spanish "Respuesta automática:"', subject: "Respuesta automática: subscribe" },
  { name: 'Italian "Risposta automatica:"', subject: "Risposta automatica: subscribe" },
  { name: 'Dutch "Automatisch antwoord:"', subject: "Automatisch antwoord: subscribe" },
  { name: 'Japanese "自動応答:"', subject: "自動応答: subscribe" },
  { name: 'Japanese "不在通知:"', subject: "不在通知: subscribe" },
  { name: 'Chinese "自动回复:"', subject: "自动回复: subscribe" },
  { name: 'Russian "Автоматический ответ:"', subject: "Автоматический ответ: subscribe" },
  { name: "an empty sender", envelopeFrom: "" },
];

describe("mail from a robot", () => {
  it.each(robots.map((robot, i) => ({ ...robot, address: `robot${i}@readers.test` })))(
    "$name: no subscriber and no mail, sent to subscribe@ or as subscribe to the newsletter's address",
    async (robot) => {
      for (const to of [`subscribe@${domain}`, `news@${domain}`]) {
        await service.client().sendMail({
          envelope: { from: robot.envelopeFrom ?? robot.address, to: [to] },
          from: robot.address,
          to,
          subject: robot.subject ?? "subscribe",
          text: robot.subject ? "subscribe\n\nI am away until Monday." : "subscribe",
          headers: robot.headers ?? {},
        });
      }
      // The server answers 250 only once the message is handled: a subscriber would exist by now.
      expect(await subscriberRow(robot.address)).toBeUndefined();
      expect(outbox.messages.filter((m) => m.to.includes(robot.address))).toEqual([]);
    },
  );

  it("a person's plain subscribe still works, by either way, and only the person was mailed", async () => {
    for (const [address, to] of [
      ["person1@readers.test", `subscribe@${domain}`],
      ["person2@readers.test", `news@${domain}`],
    ] as const) {
      await service.client().sendMail({ from: address, to, subject: "subscribe", text: "" });
      expect((await subscriberRow(address))?.status).toBe("pending");
    }
    // Every robot above was handled before these: had one been mailed, it would be here by now.
    await outbox.waitFor(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(outbox.messages.map((m) => m.to[0]).sort()).toEqual([
      "person1@readers.test",
      "person2@readers.test",
    ]);
  });

  it("a bounce carrying robot and list headers is still applied: loop safety stops replies only", async () => {
    const applied: string[] = [];
    const actions: InboundActions = {
      async subscribe(email) {
        applied.push(`subscribe ${email}`);
      },
      async unsubscribe() {},
      async mailUnsubscribeLink() {},
      async applyReport(bounce, proofs) {
        applied.push(`${bounce.type} ${proofs.map((p) => p.kind).join(",")}`);
        return { applied: true, deliveryId: 7, recorded: { suppressed: true } };
      },
    };
    const server = await startInboundServer({
      port: 0,
      host: "127.0.0.1",
      domain,
      mailboxes: knownMailboxes(`news@${domain}`, domain),
      secret,
      log: silentLogger,
      actions,
    });
    onTestFinished(() => server.close());
    const dsn = [
      "From: Mail Delivery System <MAILER-DAEMON@mx.readers.test>",
      "Subject: Undelivered Mail Returned to Sender",
      "Auto-Submitted: auto-replied",
      "Precedence: bulk",
      "List-Id: <bounces.mx.readers.test>",
      "X-Auto-Response-Suppress: All",
      "X-MS-Exchange-Inbox-Rules-Loop: postmaster@readers.test",
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain",
      "",
      "Your message could not be delivered.",
      "--b1",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.readers.test",
      "",
      "Final-Recipient: rfc822; gone@readers.test",
      "Action: failed",
      "Status: 5.1.1",
      "Diagnostic-Code: smtp; 550 5.1.1 User unknown",
      "--b1--",
      "",
    ].join("\r\n");
    const bounceAddress = `bounces+${signDeliveryToken(secret, 7)}@${domain}`;
    await createTransport({ host: "127.0.0.1", port: server.port, secure: false, ignoreTLS: true }).sendMail({
      envelope: { from: "", to: [bounceAddress] },
      raw: dsn,
    });
    expect(applied).toEqual(["hard verp"]);
  });
});

describe("every mail Digest sends on its own", () => {
  it("confirm, welcome, unsubscribe-link and goodbye carry Auto-Submitted and X-Auto-Response-Suppress", async () => {
    const address = "marked@readers.test";
    const before = outbox.messages.length;
    await service
      .client()
      .sendMail({ from: address, to: `subscribe@${domain}`, subject: "subscribe", text: "" });
    const [confirm] = (await outbox.waitFor(before + 1)).slice(before);
    const link = /http:\/\/127\.0\.0\.1:\d+\/confirm\/[a-z2-7]+/.exec(
      (await simpleParser(confirm!.raw)).text ?? "",
    )?.[0];
    expect((await fetch(link!, { method: "POST" })).status).toBe(200);
    await outbox.waitFor(before + 2);
    await service
      .client()
      .sendMail({ from: address, to: `unsubscribe@${domain}`, subject: "unsubscribe", text: "" });
    await outbox.waitFor(before + 3);
    const reader = await subscriberRow(address);
    const token = signSubscriberToken(secret, "unsubscribe", reader!.id);
    await service
      .client()
      .sendMail({ from: address, to: `unsubscribe+${token}@${domain}`, subject: "x", text: "" });
    const mails = (await outbox.waitFor(before + 4)).slice(before);
    const headerBlocks = mails.map((m) => m.raw.toString("utf8").split("\r\n\r\n")[0] ?? "");
    const kinds = headerBlocks.map((h) => /^Message-ID: <([a-z-]+)\./m.exec(h)?.[1]);
    expect(kinds).toEqual(["confirm", "welcome", "unsubscribe-link", "goodbye"]);
    for (const block of headerBlocks) {
      expect(block).toMatch(/^Auto-Submitted: auto-generated\r?$/m);
      expect(block).toMatch(/^X-Auto-Response-Suppress: OOF, AutoReply\r?$/m);
    }
  });
});
