import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openQueue, redisConnection, type TransactionalJob } from "../../src/queues.js";
import { startSend } from "../../src/sending/plan.js";
import { messageId, returnPath } from "../../src/sending/reader-links.js";
import { mailRequest, queueNotify } from "../../src/subscribers/notify.js";
import { digest } from "../helpers/cli.js";
import type { TestDatabase } from "../helpers/db.js";
import { pgDump } from "../helpers/pg-dump.js";
import { sharedRedisUrl } from "../helpers/redis.js";
import type { SmtpCapture } from "../helpers/smtp.js";
import { type InboundService, startInboundService } from "../inbound/harness.js";
import { identity, type Pipeline, pipeline, secret, storeIssue, waitUntil } from "../sending/harness.js";

/**
 * Erase means erased: after `digest subscribers remove X`, a pg_dump of the whole database and
 * every key of the service's queues hold X nowhere, also after a bounce for X arrives. X's mail
 * server quotes the address in every refusal, as real ones do, so it lands wherever answers are kept.
 */
const erased = "Erase.Me@readers.test";
const needle = erased.toLowerCase();
let service: InboundService;
let database: TestDatabase;
let outbox: SmtpCapture;
let sending: Pipeline;
let sendId: string;
let deliveryId: number;

/** Every value under the given queue prefixes on the shared Redis, as text. */
async function redisText(prefixes: string[]): Promise<string> {
  const redis = new Redis(sharedRedisUrl);
  let text = "";
  try {
    for (const prefix of prefixes) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `{${prefix}}*`, "COUNT", 1000);
        cursor = next;
        for (const key of keys) {
          const type = await redis.type(key);
          if (type === "hash") text += JSON.stringify(await redis.hgetall(key));
          else if (type === "string") text += await redis.get(key);
          else if (type === "list") text += JSON.stringify(await redis.lrange(key, 0, -1));
          else if (type === "zset") text += JSON.stringify(await redis.zrange(key, "0", "-1"));
          else if (type === "set") text += JSON.stringify(await redis.smembers(key));
          else if (type === "stream") text += JSON.stringify(await redis.xrange(key, "-", "+"));
        }
      } while (cursor !== "0");
    }
  } finally {
    redis.disconnect();
  }
  return text.toLowerCase();
}

beforeAll(async () => {
  service = await startInboundService("erase");
  ({ database, outbox } = service);
  outbox.options.onRcpt = (address) =>
    address.toLowerCase() === needle
      ? { code: 550, message: `5.1.1 <${address}>: Recipient address rejected: User unknown` }
      : undefined;
  sending = await pipeline(database, outbox.url);
  await database.query(sql`insert into subscribers (email, name, status, consent_source, consent_ip, confirmed_at)
    values (${erased}, 'Eve Erased', 'active', 'web', '192.0.2.7', now()),
           ('stays@readers.test', 'Stays', 'active', 'web', '192.0.2.8', now())`);
  const [row] = await database.query<{ id: string }>(sql`select id from subscribers where email = ${erased}`);

  // A welcome mail the server refuses: a failed job, kept by BullMQ for days.
  const settings = { redisUrl: sharedRedisUrl, queuePrefix: service.prefix };
  const connection = redisConnection(settings, "producer");
  const queue = openQueue<TransactionalJob>("transactional", settings, connection);
  await queueNotify(queue)([mailRequest("welcome", row!.id, new Date())]);
  await waitUntil(async () => (await queue.getJobCounts("failed")).failed === 1, 20_000, "the failed job");
  await queue.close();
  connection.disconnect();

  // A real send (X's copy refused while sending) and a test send to X's address.
  const issueId = await storeIssue(database);
  await sending.startWorker();
  sendId = (await startSend(sending.plan, { issueId })).sendId;
  const test = await startSend(sending.plan, { issueId, test: [erased] });
  const done = async (id: string) =>
    (await database.query(sql`select 1 from sends where id = ${id} and status = 'done'`)).length === 1;
  await waitUntil(async () => (await done(sendId)) && (await done(test.sendId)), 30_000, "both sends");
  const [delivery] = await database.query<{ id: number }>(
    sql`select id::float8 as id from deliveries where subscriber_id = ${row!.id}`,
  );
  deliveryId = delivery!.id;
}, 90_000);

afterAll(async () => {
  await sending?.close();
  await service?.close();
});

/** A hard DSN for X, as X's server would mail it back to the VERP address of X's delivery. */
function bounceForX(): string {
  return [
    "From: MAILER-DAEMON@mx.readers.test",
    `To: ${returnPath(identity, secret, deliveryId)}`,
    "Subject: Undelivered Mail Returned to Sender",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="f"',
    "",
    "--f",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.readers.test",
    "",
    `Final-Recipient: rfc822; ${erased}`,
    "Action: failed",
    "Status: 5.1.1",
    `Diagnostic-Code: smtp; 550 5.1.1 <${erased}>: User unknown`,
    "--f",
    "Content-Type: text/rfc822-headers",
    "",
    `Message-ID: ${messageId(identity, secret, sendId, deliveryId)}`,
    `To: ${erased}`,
    "--f--",
    "",
  ].join("\r\n");
}

describe("erasing a reader", () => {
  it("leaves the address nowhere in a pg_dump or the queues, also after a bounce for them arrives", async () => {
    // Before: the address is in the row, the server's answers, the bounce records and the test send.
    const before = pgDump(database.url).toLowerCase();
    expect(before.split(needle).length - 1).toBeGreaterThan(3);

    const removed = digest(["subscribers", "remove", erased], {
      env: { DATABASE_URL: database.url, REDIS_URL: sharedRedisUrl, QUEUE_PREFIX: service.prefix },
    });
    expect(removed.stderr).toBe("");
    expect(removed.code).toBe(0);
    // The failed welcome job named the reader's id: it is gone from the queue too.
    const settings = { redisUrl: sharedRedisUrl, queuePrefix: service.prefix };
    const connection = redisConnection(settings, "producer");
    const queue = openQueue<TransactionalJob>("transactional", settings, connection);
    expect((await queue.getJobCounts("failed")).failed).toBe(0);
    await queue.close();
    connection.disconnect();

    const after = pgDump(database.url).toLowerCase();
    expect(after).not.toContain(needle);
    expect(after).toContain("stays@readers.test");
    expect(await redisText([service.prefix, sending.prefix])).not.toContain(needle);

    // Late reports about X: by VERP, and at postmaster@ with X's signed Message-ID. Both are
    // accepted (retrying cannot help) and store nothing.
    await service.client().sendMail({
      envelope: { from: "", to: [returnPath(identity, secret, deliveryId)] },
      raw: bounceForX(),
    });
    await service.client().sendMail({
      envelope: { from: "", to: [`postmaster@${identity.domain}`] },
      raw: bounceForX(),
    });
    expect(pgDump(database.url).toLowerCase()).not.toContain(needle);
  }, 60_000);
});
