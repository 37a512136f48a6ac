import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import type { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bounceSources } from "../../src/bounces/sources.js";
import { applyMailedReport } from "../../src/inbound/mailed-report.js";
import { startSend } from "../../src/sending/plan.js";
import { loadSendReport } from "../../src/sending/report.js";
import { addressHash } from "../../src/subscribers/suppression.js";
import type { TestDatabase } from "../helpers/db.js";
import { type PrivateDovecot, startDovecot, withImap } from "../helpers/dovecot.js";
import { type CapturedMessage, type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import {
  identity,
  type Pipeline,
  pipeline,
  reportDeps,
  sendStatusOf,
  storeIssue,
  waitUntil,
} from "../sending/harness.js";
import { mailgunSignature } from "../webhooks/sign.js";
import { type InboundService, startInboundService } from "./harness.js";
import { postfixDsn } from "./postfix-dsn.js";

/**
 * One report counts once, however often and by however many channels it arrives: an MTA that
 * lost our reply to DATA delivers the same DSN again (RFC 5321 §4.5.4.1), and a relay may report
 * one failure by DSN to the VERP address, to the bounce mailbox and by webhook. SOFT_BOUNCE_LIMIT
 * is 3, so a report counted three times would stop the reader.
 */
let service: InboundService;
let database: TestDatabase;
let relay: SmtpCapture;
let sending: Pipeline;
let sendId: string;
let issueId: string;
/** The bounce mailbox (BOUNCE_IMAP_URL) `digest serve` reads, on a Dovecot of the test's own. */
let dovecot: PrivateDovecot;
const mailgunKey = `key-${randomBytes(16).toString("hex")}`;
const got = new Map<string, CapturedMessage>();
const readers = ["again", "everywhere", "delayed", "worse", "angry"].map((name) => `${name}@readers.test`);

function messageTo(email: string): CapturedMessage {
  const message = got.get(email);
  if (!message) throw new Error(`${email} got no message`);
  return message;
}

const ourMessageId = (message: CapturedMessage) =>
  /^Message-ID:\s*(<[^>]+>)/im.exec(message.raw.toString("utf8"))?.[1] ?? "";

async function overSmtp(to: string, raw: string, from = "") {
  await service.client().sendMail({ envelope: { from, to: [to] }, raw });
}

async function statusOf(email: string) {
  const [row] = await database.query<{ status: string }>(
    sql`select status from subscribers where email = ${email}`,
  );
  return row?.status;
}

/** Every bounce or complaint row recorded about the reader's delivery of the send. */
async function recorded(email: string) {
  return database.query<{ type: string; source: string }>(sql`
    select b.type, b.source from bounces b join deliveries d on d.id = b.delivery_id
    join subscribers s on s.id = d.subscriber_id where s.email = ${email} order by b.created_at`);
}

async function postMailgun(event: Record<string, unknown>) {
  const res = await fetch(`http://127.0.0.1:${service.serve.httpPort}/webhooks/mailgun`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      signature: mailgunSignature(mailgunKey),
      "event-data": { id: randomBytes(8).toString("hex"), timestamp: Date.now() / 1000, ...event },
    }),
  });
  expect(res.status).toBe(200);
}

const mailbox = () => reportDeps(database);

beforeAll(async () => {
  dovecot = await startDovecot();
  service = await startInboundService("once", {
    settings: { webhookMailgunSigningKey: mailgunKey, bounceImapUrl: dovecot.url() },
  });
  database = service.database;
  relay = await startSmtpCapture();
  sending = await pipeline(database, relay.url);
  issueId = await storeIssue(database);
  for (const email of readers) {
    await database.query(
      sql`insert into subscribers (email, status, consent_source) values (${email}, 'active', 'admin')`,
    );
  }
  await sending.startWorker();
  const started = await startSend(sending.plan, { issueId });
  sendId = started.sendId;
  await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 20_000, "send done");
  for (const m of await relay.waitFor(started.deliveries)) got.set(m.to[0] ?? "", m);
});

afterAll(async () => {
  await sending?.close();
  await relay?.close();
  await service?.close();
  await dovecot?.stop();
});

describe("one report counts once", () => {
  it("a DSN an MTA delivers three times (its 250 to DATA lost) counts once: the reader stays active", async () => {
    const dsn = postfixDsn(messageTo("again@readers.test"));
    for (let i = 0; i < 3; i++) await overSmtp(dsn.to, dsn.raw);
    expect(await statusOf("again@readers.test")).toBe("active");
    expect(await recorded("again@readers.test")).toEqual([{ type: "soft", source: "dsn" }]);
  });

  it("the same failure by SMTP to the VERP address, by the bounce mailbox and by the relay's webhook counts once", async () => {
    const message = messageTo("everywhere@readers.test");
    const dsn = postfixDsn(message);
    await overSmtp(dsn.to, dsn.raw);
    expect((await applyMailedReport(mailbox(), Buffer.from(dsn.raw))).result).toBe("duplicate");
    await postMailgun({
      event: "failed",
      severity: "permanent",
      reason: "bounce",
      recipient: "everywhere@readers.test",
      message: { headers: { "message-id": ourMessageId(message).slice(1, -1) } },
      "delivery-status": {
        code: 552,
        "enhanced-code": "5.2.2",
        description: "5.2.2 The email account that you tried to reach is over quota.",
      },
    });
    expect(await statusOf("everywhere@readers.test")).toBe("active");
    expect(await recorded("everywhere@readers.test")).toEqual([{ type: "soft", source: "dsn" }]);
  });

  it("delay notices are no bounce, and the failure after them counts once however often it comes", async () => {
    const message = messageTo("delayed@readers.test");
    const delay = postfixDsn(message, {
      action: "delayed",
      status: "4.2.2",
      reply: "452 4.2.2 Mailbox full",
    });
    await overSmtp(delay.to, delay.raw);
    await overSmtp(delay.to, delay.raw);
    expect(await recorded("delayed@readers.test")).toEqual([]);
    const failure = postfixDsn(message, { status: "4.2.2", reply: "452 4.2.2 Mailbox full" });
    await overSmtp(failure.to, failure.raw);
    await overSmtp(failure.to, failure.raw);
    expect((await applyMailedReport(mailbox(), Buffer.from(failure.raw))).result).toBe("duplicate");
    expect(await statusOf("delayed@readers.test")).toBe("active");
    expect(await recorded("delayed@readers.test")).toEqual([{ type: "soft", source: "dsn" }]);
  });

  it("a hard bounce after a soft one for the same delivery still stops the reader, once", async () => {
    const message = messageTo("worse@readers.test");
    const soft = postfixDsn(message);
    await overSmtp(soft.to, soft.raw);
    expect(await statusOf("worse@readers.test")).toBe("active");
    const hard = postfixDsn(message, {
      status: "5.1.1",
      reply:
        "550 5.1.1 <worse@readers.test>: Recipient address rejected: User unknown in virtual mailbox table",
    });
    await overSmtp(hard.to, hard.raw);
    await overSmtp(hard.to, hard.raw);
    expect(await statusOf("worse@readers.test")).toBe("bounced");
    const suppressed = await database.query(
      sql`select 1 from suppressions where address_hash = ${addressHash("worse@readers.test")}`,
    );
    expect(suppressed).toHaveLength(1);
    expect(await recorded("worse@readers.test")).toEqual([
      { type: "soft", source: "dsn" },
      { type: "hard", source: "dsn" },
    ]);
  });

  it("the same complaint by ARF mail and by the relay's webhook counts once", async () => {
    const message = messageTo("angry@readers.test");
    const headers = message.raw.toString("utf8").split("\r\n\r\n")[0];
    const arf = [
      "From: feedback@isp.test",
      `To: abuse@${identity.domain}`,
      "Subject: Abuse report",
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type=feedback-report; boundary="arf"',
      "",
      "--arf",
      "Content-Type: text/plain",
      "",
      "This is an email abuse report.",
      "--arf",
      "Content-Type: message/feedback-report",
      "",
      "Feedback-Type: abuse",
      "User-Agent: isp-fbl/1.0",
      "Version: 1",
      "Original-Rcpt-To: angry@readers.test",
      "--arf",
      "Content-Type: text/rfc822-headers",
      "",
      headers,
      "--arf--",
      "",
    ].join("\r\n");
    await overSmtp(`abuse@${identity.domain}`, arf, "feedback@isp.test");
    await postMailgun({
      event: "complained",
      recipient: "angry@readers.test",
      message: { headers: { "message-id": ourMessageId(message).slice(1, -1) } },
    });
    expect(await statusOf("angry@readers.test")).toBe("complained");
    expect(await recorded("angry@readers.test")).toEqual([{ type: "complaint", source: "arf" }]);
  });

  it("staff see each delivery's bounce or complaint once, from the channel that brought it first", async () => {
    const report = await loadSendReport(database, sendId);
    expect(report.bounced).toEqual([
      { type: "soft", reason: "mailbox_full", count: 3 },
      { type: "hard", reason: "user_unknown", count: 1 },
    ]);
    expect(report.complaints).toEqual([{ feedbackType: "abuse", count: 1 }]);
    const sources = await bounceSources(database.db, sendId);
    expect(sources.map((s) => `${s.label} ${s.type} ${s.reason} ${s.count}`)).toEqual([
      "inbound mail (VERP) soft mailbox_full 3",
      "inbound mail (VERP, complaint) complaint abuse 1",
      "inbound mail (VERP) hard user_unknown 1",
    ]);
  });
});

/** Mailgun's word that the reader's server refused `message` for a full mailbox. */
function mailgunOverQuota(message: CapturedMessage) {
  return postMailgun({
    event: "failed",
    severity: "permanent",
    reason: "bounce",
    recipient: message.to[0],
    message: { headers: { "message-id": ourMessageId(message).slice(1, -1) } },
    "delivery-status": {
      code: 552,
      "enhanced-code": "5.2.2",
      description: "5.2.2 The email account that you tried to reach is over quota.",
    },
  });
}

/** The relay, rewriting the return path, delivers the report to the bounce mailbox instead. */
async function intoMailbox(raw: string) {
  await onImap((imap) => imap.append("INBOX", raw).then(() => {}));
}

async function onImap<T>(work: (imap: ImapFlow) => Promise<T>): Promise<T> {
  return withImap(dovecot, work);
}

/** How many reports `digest serve` has read from the bounce mailbox and moved to Processed. */
function processed(): Promise<number> {
  return onImap(async (imap) => {
    if (!(await imap.list()).some((b) => b.path === "INBOX/Processed")) return 0;
    const status = await imap.status("INBOX/Processed", { messages: true });
    return status ? (status.messages ?? 0) : 0;
  });
}

async function mailboxRead(count: number) {
  await waitUntil(async () => (await processed()) >= count, 15_000, `${count} read from the mailbox`);
}

describe("one report counts once, by SMTP, the bounce mailbox (IMAP) and webhooks", () => {
  const more = ["mailed", "boxed", "hooked", "crowd"].map((name) => `${name}@readers.test`);
  const next = new Map<string, CapturedMessage>();
  const nextTo = (email: string) => {
    const message = next.get(email);
    if (!message) throw new Error(`${email} got no message`);
    return message;
  };

  beforeAll(async () => {
    for (const email of more) {
      await database.query(
        sql`insert into subscribers (email, status, consent_source) values (${email}, 'active', 'admin')`,
      );
    }
    const before = relay.messages.length;
    const started = await startSend(sending.plan, { issueId, again: true });
    await waitUntil(
      async () => (await sendStatusOf(database, started.sendId)) === "done",
      20_000,
      "send done",
    );
    const sent = (await relay.waitFor(before + started.deliveries)).slice(before);
    for (const m of sent) next.set(m.to[0] ?? "", m);
  });

  it("a DSN by SMTP to the VERP address and the same DSN in the bounce mailbox count once, whichever comes first", async () => {
    const first = postfixDsn(nextTo("mailed@readers.test"));
    await overSmtp(first.to, first.raw);
    await intoMailbox(first.raw);
    await mailboxRead(1);
    expect(await recorded("mailed@readers.test")).toEqual([{ type: "soft", source: "dsn" }]);
    // Staff can tell which report it was, whichever channel brought it.
    const [kept] = await database.query<{ report_id: string }>(sql`
      select b.details->>'reportId' as report_id from bounces b join subscribers s on s.id = b.subscriber_id
      where s.email = 'mailed@readers.test'`);
    expect(kept?.report_id).toBe(/^Message-Id: (<[^>]+>)/m.exec(first.raw)?.[1]);

    const boxed = postfixDsn(nextTo("boxed@readers.test"));
    await intoMailbox(boxed.raw);
    await mailboxRead(2);
    await overSmtp(boxed.to, boxed.raw);
    expect(await recorded("boxed@readers.test")).toEqual([{ type: "soft", source: "mailbox" }]);
  });

  it("the relay's webhook and then its DSN by SMTP count once", async () => {
    const message = nextTo("hooked@readers.test");
    await mailgunOverQuota(message);
    const dsn = postfixDsn(message);
    await overSmtp(dsn.to, dsn.raw);
    expect(await recorded("hooked@readers.test")).toEqual([{ type: "soft", source: "webhook" }]);
  });

  it("three copies by SMTP, one in the mailbox and one by webhook, all at the same moment, count once", async () => {
    const message = nextTo("crowd@readers.test");
    const dsn = postfixDsn(message);
    const read = await processed();
    await Promise.all([
      overSmtp(dsn.to, dsn.raw),
      overSmtp(dsn.to, dsn.raw),
      overSmtp(dsn.to, dsn.raw),
      intoMailbox(dsn.raw),
      mailgunOverQuota(message),
    ]);
    await mailboxRead(read + 1);
    expect(await recorded("crowd@readers.test")).toHaveLength(1);
    expect(await statusOf("crowd@readers.test")).toBe("active");
  });

  it("the database itself refuses a second counted failure for one delivery", async () => {
    const [row] = await database.query<{ delivery_id: string }>(sql`
      select b.delivery_id from bounces b join subscribers s on s.id = b.subscriber_id
      where s.email = 'crowd@readers.test' and b.counted`);
    const refusal = await database
      .query(sql`insert into bounces (delivery_id, type, source) values (${row?.delivery_id}, 'soft', 'dsn')`)
      .then(
        () => undefined,
        (error: Error) => error,
      );
    expect(String(refusal?.cause ?? refusal)).toMatch(/unique constraint "bounces_counted_key"/);
  });
});
