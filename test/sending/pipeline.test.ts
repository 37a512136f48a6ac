import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifiedMessageRef } from "../../src/sending/message-id.js";
import { startSend } from "../../src/sending/plan.js";
import { createTestDatabase } from "../helpers/db.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import {
  addReaders,
  deliveryRows,
  type Pipeline,
  pipeline,
  secret,
  sendStatusOf,
  storeIssue,
  waitUntil,
} from "./harness.js";

const database = await createTestDatabase();
const messageIdOf = (raw: Buffer) => /^Message-ID: (\S+)\r$/m.exec(raw.toString("latin1"))?.[1];
let smtp: SmtpCapture;
let pipe: Pipeline;
let issueId: string;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  pipe = await pipeline(database, smtp.url);
  issueId = await storeIssue(database);
  await addReaders(database, 120);
  await pipe.startWorker();
});
afterAll(async () => {
  await pipe.close();
  await smtp.close();
});

describe("a send to every active reader", () => {
  let sendId: string;
  it("delivers exactly one message to each reader and finishes the send", async () => {
    const started = await startSend(pipe.plan, { issueId });
    sendId = started.sendId;
    expect(started).toMatchObject({ status: "running", deliveries: 120, enqueued: true });
    await waitUntil(
      async () => (await sendStatusOf(database, sendId)) === "done",
      20_000,
      "the send to finish",
    );
    const recipients = smtp.messages.flatMap((m) => m.to);
    expect(recipients).toHaveLength(120);
    expect(new Set(recipients).size).toBe(120);
    const rows = await deliveryRows(database, sendId);
    expect(rows.every((r) => r.status === "sent")).toBe(true);
  });

  it("gives each message the headers of SPEC §6, parseable, with its reader's own links", async () => {
    const captured = smtp.messages[0]!;
    const mail = await simpleParser(captured.raw);
    const to = captured.to[0]!;
    expect(mail.to && "text" in mail.to ? mail.to.text : "").toBe(to);
    expect(captured.from).toMatch(/^bounces\+[a-z2-7]+@example\.org$/);
    expect(mail.messageId).toMatch(new RegExp(`^<${sendId}\\.\\d+\\.[0-9a-f]{20}@example\\.org>$`));
    expect(verifiedMessageRef(secret, "example.org", mail.messageId)?.sendId).toBe(sendId);
    const raw = captured.raw.toString("utf8");
    expect(raw).toMatch(
      /^List-Unsubscribe: <https:\/\/news\.example\.org\/unsubscribe\/[a-z2-7]+>, <mailto:unsubscribe\+[a-z2-7]+@example\.org\?subject=unsubscribe>\r$/m,
    );
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    expect(raw).toMatch(/^List-Id: "[^"]+" <[a-z0-9-]+\.example\.org>\r$/im);
    expect(raw).toMatch(/^List-Archive: <https:\/\/news\.example\.org\/>\r$/m);
    expect(mail.headers.get("content-type")).toMatchObject({ value: "multipart/alternative" });
    // Every encoded line stays within the quoted-printable limit after splicing.
    for (const line of raw.split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
    const body = raw.slice(raw.indexOf("\r\n\r\n"));
    expect(body.split("\r\n").filter((l) => l.length > 76)).toEqual([]);
    const unsub = /unsubscribe\/([a-z2-7]+)/.exec(raw)![1]!;
    expect(mail.text).toContain(`https://news.example.org/unsubscribe/${unsub}`);
    expect(mail.html).toContain(`https://news.example.org/unsubscribe/${unsub}`);
    expect(mail.text).toContain(to);
    expect(mail.text).not.toContain("{{digest_");
    expect(mail.html).not.toContain("{{digest_");
  });

  it("records the relay's id from each 250 answer with its delivery, for webhooks to match", async () => {
    const rows = await database.query<{ id: number; provider_message_id: string | null }>(
      sql`select id::float8 as id, provider_message_id from deliveries where send_id = ${sendId}`,
    );
    const byDelivery = new Map(
      smtp.messages.map((m) => [
        verifiedMessageRef(secret, "example.org", messageIdOf(m.raw))?.deliveryId,
        m.relayId,
      ]),
    );
    expect(rows).toHaveLength(120);
    for (const row of rows) expect(row.provider_message_id).toBe(byDelivery.get(row.id));
  });

  it("refuses to start the same issue again without --again", async () => {
    await expect(startSend(pipe.plan, { issueId })).rejects.toMatchObject({ kind: "conflict" });
    const again = await startSend(pipe.plan, { issueId, again: true });
    expect(again.deliveries).toBe(120);
    await waitUntil(async () => (await sendStatusOf(database, again.sendId)) === "done");
  });

  it("sends a test send only to the given addresses", async () => {
    const before = smtp.messages.length;
    const test = await startSend(pipe.plan, { issueId, test: ["staff@example.net", "editor@example.net"] });
    await waitUntil(async () => (await sendStatusOf(database, test.sendId)) === "done");
    expect(
      smtp.messages
        .slice(before)
        .flatMap((m) => m.to)
        .sort(),
    ).toEqual(["editor@example.net", "staff@example.net"]);
  });

  it("refuses a test address that could not be carried in a header", async () => {
    await expect(startSend(pipe.plan, { issueId, test: ["a@b.c\r\nBcc: x@y.z"] })).rejects.toMatchObject({
      kind: "invalid",
    });
  });
});
