import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import { addressHash, unsuppress } from "../../src/subscribers/suppression.js";
import type { TestDatabase } from "../helpers/db.js";
import { type CapturedMessage, type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import { type Pipeline, pipeline, sendStatusOf, storeIssue, waitUntil } from "../sending/harness.js";
import { type InboundService, startInboundService } from "./harness.js";
import { postfixDsn } from "./postfix-dsn.js";

/**
 * SOFT_BOUNCE_LIMIT (3) behind a relay: the relay answers every message 250 and the reader's own
 * server refuses it later, so the only word of it is a Postfix DSN mailed back to the VERP address.
 * A 250 proves nothing; a send older than DEFER_HORIZON_SECONDS (3600 here) with no bounce does.
 */
let service: InboundService;
let database: TestDatabase;
let relay: SmtpCapture;
let sending: Pipeline;
let issueId: string;
let sends = 0;

async function addReader(email: string) {
  await database.query(
    sql`insert into subscribers (email, status, consent_source) values (${email}, 'active', 'admin')`,
  );
}

/** One real send of the issue through the relay; what each reader got, by address. */
async function sendIssue(): Promise<Map<string, CapturedMessage>> {
  const before = relay.messages.length;
  const started = await startSend(sending.plan, { issueId, again: sends++ > 0 });
  await waitUntil(async () => (await sendStatusOf(database, started.sendId)) === "done", 20_000, "send done");
  const got = (await relay.waitFor(before + started.deliveries)).slice(before);
  return new Map(got.map((m) => [m.to[0] ?? "", m]));
}

/** The relay's DSN about `message`, mailed to its VERP address over SMTP with the null sender. */
async function bounceBack(
  message: CapturedMessage | undefined,
  options: Parameters<typeof postfixDsn>[1] = {},
) {
  if (!message) throw new Error("the reader got no message to bounce");
  const dsn = postfixDsn(message, options);
  await service.client().sendMail({ envelope: { from: "", to: [dsn.to] }, raw: dsn.raw });
}

async function statusOf(email: string) {
  const [row] = await database.query<{ status: string }>(
    sql`select status from subscribers where email = ${email}`,
  );
  return row?.status;
}

async function isSuppressed(email: string) {
  const rows = await database.query(
    sql`select 1 from suppressions where address_hash = ${addressHash(email)}`,
  );
  return rows.length === 1;
}

beforeAll(async () => {
  service = await startInboundService("streak");
  database = service.database;
  relay = await startSmtpCapture();
  sending = await pipeline(database, relay.url);
  issueId = await storeIssue(database);
  await sending.startWorker();
});

afterAll(async () => {
  await sending?.close();
  await relay?.close();
  await service?.close();
});

describe("soft bounces behind a relay", () => {
  it("a reader whose mailbox stays full is stopped after three sends in a row, though the relay answered 250 to each, and the fourth send does not mail them", async () => {
    await addReader("full@readers.test");
    await addReader("fine@readers.test");
    const first = await sendIssue();
    // Postfix gives up on a full mailbox with 4.2.2 once its queue lifetime is over, or at once on 5.2.2.
    await bounceBack(first.get("full@readers.test"), {
      status: "4.2.2",
      reply: "452 4.2.2 <full@readers.test>: Mailbox full",
    });
    expect(await statusOf("full@readers.test")).toBe("active");
    await bounceBack((await sendIssue()).get("full@readers.test"));
    expect(await statusOf("full@readers.test")).toBe("active");
    await bounceBack((await sendIssue()).get("full@readers.test"));
    expect(await statusOf("full@readers.test")).toBe("bounced");
    expect(await isSuppressed("full@readers.test")).toBe(true);

    const fourth = await sendIssue();
    expect(fourth.has("full@readers.test")).toBe(false);
    expect(fourth.has("fine@readers.test")).toBe(true);
    expect(await statusOf("fine@readers.test")).toBe("active");
  });

  it("a send that went out longer ago than DEFER_HORIZON_SECONDS with no bounce ends the streak; one answered only by the relay's 250 does not", async () => {
    await addReader("patient@readers.test");
    await addReader("hasty@readers.test");
    for (let i = 0; i < 2; i++) {
      const got = await sendIssue();
      await bounceBack(got.get("patient@readers.test"));
      await bounceBack(got.get("hasty@readers.test"));
    }
    // The third send bounces for neither; only patient's went out longer ago than the horizon.
    await sendIssue();
    await database.query(sql`update deliveries set sent_at = now() - interval '2 hours'
      where id = (select max(d.id) from deliveries d join subscribers s on s.id = d.subscriber_id
                  where s.email = 'patient@readers.test')`);
    const fourth = await sendIssue();
    await bounceBack(fourth.get("patient@readers.test"));
    await bounceBack(fourth.get("hasty@readers.test"));
    expect(await statusOf("patient@readers.test")).toBe("active");
    expect(await isSuppressed("patient@readers.test")).toBe(false);
    expect(await statusOf("hasty@readers.test")).toBe("bounced");
    expect(await isSuppressed("hasty@readers.test")).toBe(true);
  });

  it("a bounce that arrives after the horizon still counts: the send it answers stops being proof", async () => {
    // patient's third send (no bounce, past the horizon) was the proof; its DSN comes late.
    const third = relay.messages.filter((m) => m.to[0] === "patient@readers.test").at(-2);
    await bounceBack(third);
    expect(await statusOf("patient@readers.test")).toBe("bounced");
  });

  it("DSNs that come days late, when the sends after them already look delivered, still stop the reader after three in a row", async () => {
    // A daily newsletter behind Postfix: a full mailbox is retried for its queue lifetime (5 days),
    // so the DSN about Monday's issue comes on Saturday, when Tuesday's to Friday's went out longer
    // ago than the horizon with no word yet.
    await addReader("late@readers.test");
    const week: (CapturedMessage | undefined)[] = [];
    for (let day = 0; day < 5; day++) week.push((await sendIssue()).get("late@readers.test"));
    await database.query(sql`update deliveries set sent_at = now() - interval '2 hours'
      where subscriber_id = (select id from subscribers where email = 'late@readers.test')`);
    const failed = { status: "4.2.2", reply: "452 4.2.2 <late@readers.test>: Mailbox full" };
    await bounceBack(week[0], failed);
    await bounceBack(week[1], failed);
    expect(await statusOf("late@readers.test")).toBe("active");
    await bounceBack(week[2], failed);
    expect(await statusOf("late@readers.test")).toBe("bounced");
    expect(await isSuppressed("late@readers.test")).toBe(true);
  });

  it("late DSNs about sends that a delivered one separates are no row: the reader stays", async () => {
    await addReader("patchy@readers.test");
    const week: (CapturedMessage | undefined)[] = [];
    for (let day = 0; day < 4; day++) week.push((await sendIssue()).get("patchy@readers.test"));
    await database.query(sql`update deliveries set sent_at = now() - interval '2 hours'
      where subscriber_id = (select id from subscribers where email = 'patchy@readers.test')`);
    // The third issue reached them (no bounce past the horizon); the others came back.
    for (const day of [0, 1, 3]) await bounceBack(week[day]);
    expect(await statusOf("patchy@readers.test")).toBe("active");
  });

  it("a reader whose suppression staff lift starts counting afresh", async () => {
    expect(await unsuppress(database.db, "full@readers.test")).toBe("bounced");
    expect(await statusOf("full@readers.test")).toBe("active");
    await bounceBack((await sendIssue()).get("full@readers.test"));
    expect(await statusOf("full@readers.test")).toBe("active");
  });
});
