import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finishIfDone } from "../../src/sending/finish.js";
import { startSend } from "../../src/sending/plan.js";
import { createTestDatabase } from "../helpers/db.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import {
  deliveryRows,
  type Pipeline,
  pipeline,
  sendStatusOf,
  softBounces,
  storeIssue,
  waitUntil,
} from "./harness.js";

/** How the SMTP server's answers per recipient become delivery and reader states. */
const database = await createTestDatabase();
let smtp: SmtpCapture;
let pipe: Pipeline;
let issueId: string;
const seenAt = new Map<string, number>();

async function reader(email: string) {
  await database.query(
    sql`insert into subscribers (email, status, consent_source) values (${email}, 'active', 'admin')`,
  );
}
async function subscriber(email: string) {
  const [row] = await database.query<{ status: string; soft_bounces: number }>(
    sql`select status, ${softBounces} as soft_bounces from subscribers where email = ${email}`,
  );
  return row;
}
async function suppressedCount() {
  const [row] = await database.query<{ n: number }>(sql`select count(*)::int as n from suppressions`);
  return row?.n ?? 0;
}

beforeAll(async () => {
  smtp = await startSmtpCapture({
    onRcpt(address) {
      const n = (seenAt.get(address) ?? 0) + 1;
      seenAt.set(address, n);
      if (address.startsWith("greylisted@") && n === 1)
        return { code: 451, message: "4.7.1 Greylisted, try again" };
      if (address.startsWith("nobody@"))
        return {
          code: 550,
          message: "5.1.1 <nobody@readers.test>: Recipient address rejected: User unknown",
        };
      if (address.startsWith("full@") || address === "late@full.test")
        return { code: 552, message: "5.2.2 Mailbox full" };
      if (address.endsWith("@strict.test"))
        return { code: 550, message: "5.7.1 Message rejected by policy: DMARC" };
      return undefined;
    },
  });
  pipe = await pipeline(database, smtp.url);
  issueId = await storeIssue(database);
  await pipe.startWorker({ policyPauseAfter: 3 });
});
afterAll(async () => {
  await pipe.close();
  await smtp.close();
});

describe("SMTP answers", () => {
  it("451 then 250: the reader is deferred, retried later and sent exactly once", async () => {
    await reader("greylisted@readers.test");
    await reader("nobody@readers.test");
    await reader("fine@readers.test");
    const { sendId } = await startSend(pipe.plan, { issueId });
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 20_000, "send done");
    const rows = await deliveryRows(database, sendId);
    const greylisted = rows.find((r) => r.email === "greylisted@readers.test");
    expect(greylisted).toMatchObject({ status: "sent", attempts: 2 });
    expect(smtp.messages.filter((m) => m.to.includes("greylisted@readers.test"))).toHaveLength(1);
    expect(rows.find((r) => r.email === "fine@readers.test")?.status).toBe("sent");
  });

  it("550 5.1.1: the delivery is bounced and the reader suppressed", async () => {
    expect(await subscriber("nobody@readers.test")).toMatchObject({ status: "bounced" });
    expect(await suppressedCount()).toBe(1);
    const [bounce] = await database.query<{ type: string; source: string; reason: string }>(
      sql`select type, source, reason from bounces`,
    );
    expect(bounce).toMatchObject({ type: "hard", source: "smtp", reason: "user_unknown" });
  });

  it("550 5.7.1: the delivery fails, the reader stays active and nothing is suppressed", async () => {
    await reader("one@strict.test");
    const { sendId } = await startSend(pipe.plan, { issueId, again: true });
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 20_000, "send done");
    const rows = await deliveryRows(database, sendId);
    expect(rows.find((r) => r.email === "one@strict.test")?.status).toBe("failed");
    expect(await subscriber("one@strict.test")).toMatchObject({ status: "active", soft_bounces: 0 });
    expect(await suppressedCount()).toBe(1);
  });

  it("552 mailbox full: decided once as a soft bounce; when the send is done the row is bounced and the reader has counted it", async () => {
    await reader("full@readers.test");
    const { sendId } = await startSend(pipe.plan, { issueId, again: true });
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 20_000, "send done");
    const rows = await deliveryRows(database, sendId);
    expect(rows.find((r) => r.email === "full@readers.test")).toMatchObject({
      status: "bounced",
      attempts: 1,
    });
    expect(await subscriber("full@readers.test")).toMatchObject({ status: "active", soft_bounces: 1 });
    const bounces = await database.query<{ type: string; source: string }>(
      sql`select b.type, b.source from bounces b join deliveries d on d.id = b.delivery_id
          where d.send_id = ${sendId}`,
    );
    expect(bounces).toEqual([{ type: "soft", source: "smtp" }]);
  });

  it("a refused row stays in the worker's hands until its bounce is recorded, so the send cannot finish in between", async () => {
    await reader("late@full.test");
    // Holding the reader's row keeps the bounce policy (which locks it) waiting, mid-commit.
    const sendId = await database.db.transaction(async (tx) => {
      await tx.execute(sql`select id from subscribers where email = 'late@full.test' for no key update`);
      const started = await startSend(pipe.plan, { issueId, again: true });
      await waitUntil(async () => seenAt.has("late@full.test"), 10_000, "the refusal");
      await new Promise((r) => setTimeout(r, 500));
      const rows = await deliveryRows(database, started.sendId);
      expect(rows.find((r) => r.email === "late@full.test")?.status).toBe("sending");
      expect(await finishIfDone(database.db, started.sendId)).toBe(false);
      return started.sendId;
    });
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done", 20_000, "send done");
    const rows = await deliveryRows(database, sendId);
    expect(rows.find((r) => r.email === "late@full.test")?.status).toBe("bounced");
    expect(await subscriber("late@full.test")).toMatchObject({ soft_bounces: 1 });
  });

  it("a bounced reader is not planned into the next send", async () => {
    const { sendId } = await startSend(pipe.plan, { issueId, again: true });
    const rows = await deliveryRows(database, sendId);
    expect(rows.map((r) => r.email)).not.toContain("nobody@readers.test");
    await waitUntil(async () => (await sendStatusOf(database, sendId)) === "done");
  });

  it("the send pauses itself when 5.7.x refusals pile up", async () => {
    for (let i = 2; i <= 6; i++) await reader(`r${i}@strict.test`);
    const { sendId } = await startSend(pipe.plan, { issueId, again: true });
    await waitUntil(
      async () => (await sendStatusOf(database, sendId)) === "paused",
      20_000,
      "the send to pause",
    );
    const [send] = await database.query<{ paused_reason: string }>(
      sql`select paused_reason from sends where id = ${sendId}`,
    );
    expect(send?.paused_reason).toMatch(/5\.7/);
    expect((await subscriber("r2@strict.test"))?.status).toBe("active");
  });
});
