import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { startReadershipUpkeep } from "../../workers/readership-upkeep.js";
import { createTestDatabase } from "../helpers/db.js";
import { record, seedSend } from "./factories.js";

const database = await createTestDatabase();

it("the worker's upkeep reclassifies new events, then purges them past retention with the figures kept", async () => {
  const sentAt = new Date(Date.now() - 86_400_000);
  const send = await seedSend(database, { readers: 2, sentAt });
  const [reader = 0] = send.deliveries;
  // A gateway with a browser's agent: the canary, then two stories, within a second.
  await record(database, send, [
    { delivery: reader, linkNo: 0, after: 1 },
    { delivery: reader, linkNo: 1, after: 1 },
    { delivery: reader, linkNo: 2, after: 2 },
  ]);
  let clock = new Date();
  const logs: string[] = [];
  const upkeep = startReadershipUpkeep(
    { db: database.db, log: (msg) => logs.push(msg), now: () => clock },
    { trackingRetentionDays: 90, intervalSeconds: 3600 },
  );
  try {
    await upkeep.runNow();
    const rules = await database.query<{ rule: string }>(
      sql`select rule from tracking_events where send_id = ${send.sendId} order by id`,
    );
    expect(rules.map((r) => r.rule)).toEqual(["canary", "canary-burst", "canary-burst"]);
    expect(logs).toContain("tracking events reclassified");

    clock = new Date(sentAt.getTime() + 91 * 86_400_000);
    await upkeep.runNow();
    const [left] = await database.query<{ n: number }>(
      sql`select count(*)::int as n from tracking_events where send_id = ${send.sendId}`,
    );
    expect(left?.n).toBe(0);
    const [kept] = await database.query<{ scanner: number }>(
      sql`select (report->'events'->>'scanner')::int as scanner from send_readership where send_id = ${send.sendId}`,
    );
    expect(kept?.scanner).toBe(3);
  } finally {
    await upkeep.close();
  }
});
