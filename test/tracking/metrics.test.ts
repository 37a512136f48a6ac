import { expect, it } from "vitest";
import { createMetrics } from "../../src/http/metrics.js";
import { purgeExpiredEvents } from "../../src/tracking/retention.js";
import { createTestDatabase } from "../helpers/db.js";
import { mimecast, record, seedSend } from "./factories.js";

const database = await createTestDatabase();

it("/metrics counts tracking events by kind and class, and keeps counting them after retention purged the rows", async () => {
  const now = new Date();
  const send = await seedSend(database, { readers: 3, sentAt: new Date(now.getTime() - 100 * 86_400_000) });
  const [a = 0, b = 0] = send.deliveries;
  await record(database, send, [
    { delivery: a, linkNo: 1, after: 3600 },
    { delivery: b, linkNo: 1, after: 1, userAgent: mimecast },
    { delivery: b, linkNo: 2, after: 1, method: "HEAD", userAgent: mimecast },
    { delivery: b, kind: "open", after: 1, ip: "17.1.2.3", userAgent: "Mozilla/5.0" },
  ]);
  const scrape = async () => (await createMetrics(database.db, undefined, 0).registry.metrics()).split("\n");
  const expected = [
    'digest_tracking_events_total{kind="click",class="human"} 1',
    'digest_tracking_events_total{kind="click",class="scanner"} 2',
    'digest_tracking_events_total{kind="open",class="privacy-proxy"} 1',
    'digest_tracking_events_total{kind="open",class="human"} 0',
  ];
  expect(await scrape()).toEqual(expect.arrayContaining(expected));
  expect(await purgeExpiredEvents(database.db, { retentionDays: 90, now })).toEqual({ sends: 1, events: 4 });
  expect(await scrape()).toEqual(expect.arrayContaining(expected));
});
