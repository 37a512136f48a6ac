import { sql } from "drizzle-orm";
import { SMTPServer } from "smtp-server";
import { verifiedMessageRef } from "../../src/sending/message-id.js";
import { startSend } from "../../src/sending/plan.js";
import type { TestDatabase } from "../helpers/db.js";
import { freePort } from "../helpers/smtp.js";
import {
  addReaders,
  identity,
  type Pipeline,
  pipeline,
  secret,
  storeIssue,
  waitUntil,
} from "../sending/harness.js";

/**
 * A relay like SES's SMTP interface: it accepts each message with "250 Ok <its own id>" and keeps
 * bounces to itself (they come back by webhook or to a mailbox, never to our VERP address).
 */
export interface Relay {
  url: string;
  /** Our Message-ID -> the relay's id, per message accepted. */
  ids: Map<string, string>;
  /** Recipient address -> our Message-ID of the message it got. */
  messageIdOf: Map<string, string>;
  close(): Promise<void>;
}

export async function startRelay(idPrefix = "0100018c"): Promise<Relay> {
  const ids = new Map<string, string>();
  const messageIdOf = new Map<string, string>();
  let n = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    closeTimeout: 1000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const messageId = /^Message-ID:\s*(<[^>]+>)/im.exec(raw)?.[1] ?? "";
        const id = `${idPrefix}-${(++n).toString(16).padStart(8, "0")}-3a4b-4c5d-000000`;
        ids.set(messageId, id);
        for (const to of session.envelope.rcptTo) messageIdOf.set(to.address, messageId);
        callback(null, `Ok ${id}`);
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return {
    url: `smtp://127.0.0.1:${port}`,
    ids,
    messageIdOf,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Sends the example issue to `readers` active readers (r0..@readers.test) through the relay, and
 * records the relay's id of each message on its delivery where the worker did not already (the
 * worker keeps it from the 250 answer; older workers did not).
 */
export async function sendThroughRelay(
  database: TestDatabase,
  relay: Relay,
  readers: number,
): Promise<Pipeline> {
  const pipe = await pipeline(database, relay.url);
  const issueId = await storeIssue(database);
  await addReaders(database, readers);
  await pipe.startWorker();
  const { sendId } = await startSend(pipe.plan, { issueId });
  await waitUntil(
    async () =>
      (await database.query<{ status: string }>(sql`select status from sends where id = ${sendId}`))[0]
        ?.status === "done",
    20_000,
    "the send through the relay",
  );
  for (const [messageId, id] of relay.ids) {
    const ref = verifiedMessageRef(secret, identity.domain, messageId);
    if (!ref) throw new Error(`the relay got a Message-ID that is not ours: ${messageId}`);
    const [row] = await database.query<{ provider_message_id: string }>(sql`update deliveries
      set provider_message_id = coalesce(provider_message_id, ${id})
      where id = ${ref.deliveryId} returning provider_message_id`);
    // A worker that records the id must record exactly what the relay said after "250 Ok ".
    if (row?.provider_message_id !== id)
      throw new Error(
        `delivery ${ref.deliveryId}: recorded relay id ${row?.provider_message_id}, the relay said ${id}`,
      );
  }
  return pipe;
}

export async function statusOf(database: TestDatabase, email: string): Promise<string | undefined> {
  const [row] = await database.query<{ status: string }>(
    sql`select status from subscribers where email = ${email}`,
  );
  return row?.status;
}

export async function suppressedCount(database: TestDatabase): Promise<number> {
  const [row] = await database.query<{ n: number }>(sql`select count(*)::int as n from suppressions`);
  return row?.n ?? 0;
}

export async function bounceCount(database: TestDatabase): Promise<number> {
  const [row] = await database.query<{ n: number }>(sql`select count(*)::int as n from bounces`);
  return row?.n ?? 0;
}
