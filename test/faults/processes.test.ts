import { QueueEvents } from "bullmq";
import { sql } from "drizzle-orm";
import { afterEach, expect, it } from "vitest";
import { bullPrefix, queueNames } from "../../src/queues.js";
import { afterMessages, type Scenario, startScenario } from "./scenario.js";

/**
 * Whole processes and servers going away mid-send: a worker asked to stop, Redis restarted empty,
 * PostgreSQL restarted. Each scenario has its own servers; the ledger check ends each one.
 */
let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

it("SIGTERM mid-batch: the worker finishes its batches and exits 0, leaving no claimed row and no stalled job", async () => {
  scenario = await startScenario({ readers: 400, env: { SEND_RATE: "80" } });
  const s = scenario;
  const events = new QueueEvents(queueNames.deliveries, {
    connection: { url: s.redis.url },
    prefix: bullPrefix("faults"),
  });
  let stalled = 0;
  events.on("stalled", () => stalled++);
  await events.waitUntilReady();
  try {
    const worker = s.spawnWorker();
    const sendId = await s.send();
    await afterMessages(s, 60);
    const asked = Date.now();
    const code = await s.stopWorker(worker, 20_000);
    const exitSeconds = (Date.now() - asked) / 1000;
    expect(code).toBe(0);
    const [left] = await s.database.query<{ n: number; sending: number }>(sql`
      select count(*) filter (where lease_owner like ${`%:${worker.pid}:%`})::int as n,
        count(*) filter (where status = 'sending')::int as sending
      from deliveries where send_id = ${sendId}`);
    expect(left).toEqual({ n: 0, sending: 0 });
    expect(await s.queue.getActiveCount()).toBe(0);
    const sentBeforeRestart = s.smtp.messages.length;
    expect(sentBeforeRestart).toBeLessThan(400);

    s.spawnWorker();
    await s.waitForSend(sendId);
    expect(stalled).toBe(0);
    await s.check(
      "SIGTERM mid-batch",
      sendId,
      {},
      `exit 0 after ${exitSeconds.toFixed(1)} s, ${sentBeforeRestart} sent before the restart, 0 stalled jobs`,
    );
  } finally {
    await events.close();
  }
});

it("Redis restarted empty mid-send: the reconciler rebuilds the lost jobs and the send finishes", async () => {
  scenario = await startScenario({ readers: 400, env: { SEND_RATE: "100" } });
  const s = scenario;
  s.spawnWorker();
  s.spawnWorker();
  const sendId = await s.send();
  await afterMessages(s, 80);
  await s.redis.restart(); // no persistence: the new server is empty
  const sentAtRestart = s.smtp.messages.length;
  await s.waitForSend(sendId);
  expect(s.workers.size).toBe(2);
  await s.check("Redis restarted and flushed", sendId, {}, `restarted after ${sentAtRestart} sent`);
});

it("PostgreSQL restarted mid-send: no message without a committed claim, workers recover, the send finishes", async () => {
  scenario = await startScenario({ readers: 400, env: { SEND_RATE: "100" }, supervise: true });
  const s = scenario;
  s.spawnWorker();
  s.spawnWorker();
  const sendId = await s.send();
  await afterMessages(s, 80);
  s.pg.restart("immediate"); // a crash: no checkpoint, connections cut
  const sentAtRestart = s.smtp.messages.length;
  await s.waitForSend(sendId, "done", 120_000);
  // `check` asserts that no delivery has more captured copies than committed claims (attempts).
  await s.check(
    "PostgreSQL restarted",
    sendId,
    {},
    `restarted after ${sentAtRestart} sent; ${s.restarts} worker restarts`,
  );
});
