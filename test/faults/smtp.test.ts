import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { digest } from "../helpers/cli.js";
import { softBounces, waitUntil } from "../sending/harness.js";
import { readerIndex, type Scenario, startScenario } from "./scenario.js";

/**
 * SMTP faults, each on its own private servers with real worker processes. After each, the ledger
 * joined with the captured messages must hold: nobody skipped, second copies only where counted.
 */
let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

/** Counts calls per key, so a fault can hit only the first attempt(s) of a reader. */
function attempts() {
  const seen = new Map<string, number>();
  return (key: string) => {
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n;
  };
}

async function subscribersAt(s: Scenario, indexes: (i: number) => boolean) {
  const rows = await s.database.query<{ email: string; status: string; soft_bounces: number }>(
    sql`select email, status, ${softBounces} as soft_bounces from subscribers`,
  );
  return rows.filter((r) => indexes(readerIndex(r.email)));
}

async function count(s: Scenario, table: "suppressions" | "bounces"): Promise<number> {
  const [row] = await s.database.query<{ n: number }>(sql`select count(*)::int as n from ${sql.raw(table)}`);
  return row?.n ?? 0;
}

describe("SMTP faults", () => {
  it("421 at the greeting: the refused connections' rows are retried and every reader is sent once", async () => {
    let connections = 0;
    scenario = await startScenario({
      readers: 300,
      smtp: {
        // The first six connections (the whole pool of both workers, and then some) are refused.
        onConnect: () =>
          ++connections <= 6 ? { code: 421, message: "4.3.2 Service not available, try later" } : undefined,
      },
    });
    scenario.spawnWorker();
    scenario.spawnWorker();
    const sendId = await scenario.send();
    await scenario.waitForSend(sendId);
    await scenario.check("421 at greeting", sendId, {}, `${Math.min(connections, 6)} connections refused`);
    expect(connections).toBeGreaterThan(6);
  });

  it("451 greylisting on every first attempt: each reader is deferred once, then sent once", async () => {
    const tries = attempts();
    scenario = await startScenario({
      readers: 300,
      smtp: {
        onRcpt: (a) =>
          tries(a) === 1 ? { code: 451, message: "4.7.1 Greylisted, please try again later" } : undefined,
      },
    });
    scenario.spawnWorker();
    const sendId = await scenario.send();
    await scenario.waitForSend(sendId);
    await scenario.check("451 greylisting", sendId);
    const [row] = await scenario.database.query<{ min: number; max: number }>(
      sql`select min(attempts)::int as min, max(attempts)::int as max from deliveries where send_id = ${sendId}`,
    );
    expect(row?.min).toBe(2);
  });

  it("452 insufficient storage for a third of the readers, twice: they are retried until sent", async () => {
    const tries = attempts();
    scenario = await startScenario({
      readers: 300,
      smtp: {
        onRcpt: (a) =>
          readerIndex(a) % 3 === 0 && tries(a) <= 2
            ? { code: 452, message: "4.3.1 Insufficient system storage" }
            : undefined,
      },
    });
    scenario.spawnWorker();
    const sendId = await scenario.send();
    await scenario.waitForSend(sendId);
    await scenario.check("452 insufficient storage", sendId);
    const [row] = await scenario.database.query<{ n: number }>(
      sql`select count(*)::int as n from deliveries where send_id = ${sendId} and attempts >= 3`,
    );
    expect(row?.n).toBeGreaterThanOrEqual(100);
  });

  it("550 5.1.1: unknown users are bounced and suppressed, everyone else is sent", async () => {
    const gone = (i: number) => i % 30 === 7;
    scenario = await startScenario({
      readers: 300,
      // One reader in 30 is gone (3.3 %), but deliveries go out in subscriber-id order, not reader
      // order, so the first hundred sent can hold five of them: the hard-bounce breaker (5 % from
      // 100 sent) would then pause the send, which is its own test's subject (sending/breakers),
      // not this one's. Here it must not stand between the bounces and their handling.
      env: { BOUNCE_PAUSE_RATE: "0.5" },
      smtp: {
        onRcpt: (a) =>
          gone(readerIndex(a))
            ? { code: 550, message: `5.1.1 <${a}>: Recipient address rejected: User unknown` }
            : undefined,
      },
    });
    scenario.spawnWorker();
    const sendId = await scenario.send();
    await scenario.waitForSend(sendId);
    await scenario.check("550 5.1.1", sendId, { bounced: 10 });
    const readers = await subscribersAt(scenario, gone);
    expect(readers.map((r) => r.status)).toEqual(Array(10).fill("bounced"));
    expect(await count(scenario, "suppressions")).toBe(10);
  });

  it("550 5.7.26 (DMARC): rows fail, readers are untouched, the send pauses itself; retry after the fix sends them", async () => {
    let dmarcBroken = true;
    const strict = (i: number) => i % 10 === 3;
    scenario = await startScenario({
      readers: 300,
      env: { SEND_RATE: "100" },
      smtp: {
        onRcpt: (a) =>
          dmarcBroken && strict(readerIndex(a))
            ? {
                code: 550,
                message:
                  "5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy",
              }
            : undefined,
      },
    });
    scenario.spawnWorker();
    const sendId = await scenario.send();
    await scenario.waitForSend(sendId, "paused", 30_000);
    const paused = await scenario.ledger(sendId, ["sent", "failed", "queued"]);
    const failedWhenPaused = paused.counts.failed ?? 0;
    expect(failedWhenPaused).toBeGreaterThanOrEqual(10);
    expect(paused.counts.queued ?? 0).toBeGreaterThan(0);
    const readers = await subscribersAt(scenario, strict);
    expect(readers.every((r) => r.status === "active" && r.soft_bounces === 0)).toBe(true);
    expect(await count(scenario, "suppressions")).toBe(0);
    expect(await count(scenario, "bounces")).toBe(0);

    // Rows claimed before the pause finish first; a retry before that would miss their failures.
    await waitUntil(async () => (await scenario?.ledger(sendId, []))?.counts.sending === undefined);
    dmarcBroken = false; // staff fix DKIM/SPF, then `digest retry` re-queues the failed rows and resumes
    const retry = digest(["retry", sendId], { env: scenario.env });
    expect(retry.code, retry.stderr).toBe(0);
    await scenario.waitForSend(sendId);
    await scenario.check(
      "550 5.7.26 DMARC",
      sendId,
      {},
      `paused itself after ${failedWhenPaused} failed, then retried`,
    );
  });

  it("554 after DATA: those deliveries end as soft bounces; the readers stay active with one soft bounce each", async () => {
    const refused = (i: number) => i % 25 === 5;
    scenario = await startScenario({
      readers: 300,
      smtp: {
        onData: (to) =>
          refused(readerIndex(to[0] ?? ""))
            ? { code: 554, message: "5.6.0 Message content rejected" }
            : undefined,
      },
    });
    scenario.spawnWorker();
    const sendId = await scenario.send();
    await scenario.waitForSend(sendId);
    // Failed at SMTP, then recorded as a soft bounce against the delivery (status `bounced`).
    await scenario.check("554 after DATA", sendId, { bounced: 12 });
    const readers = await subscribersAt(scenario, refused);
    expect(readers.every((r) => r.status === "active" && r.soft_bounces === 1)).toBe(true);
    expect(await count(scenario, "suppressions")).toBe(0);
  });

  it("connection dropped after the final dot: the reader is sent again and the second copy is counted ambiguous", async () => {
    const tries = attempts();
    // Every tenth reader's first attempt: half the time the server had kept the message, half not.
    scenario = await startScenario({
      readers: 300,
      smtp: {
        afterDot: (to) => {
          const a = to[0] ?? "";
          const i = readerIndex(a);
          return i % 10 === 0 && tries(a) === 1 ? { action: "drop", keep: i % 20 === 0 } : undefined;
        },
      },
    });
    scenario.spawnWorker();
    const sendId = await scenario.send();
    await scenario.waitForSend(sendId);
    const ledger = await scenario.check("dropped after the final dot", sendId);
    expect(ledger.duplicates).toBeGreaterThanOrEqual(15);
    expect(ledger.ambiguous).toBeGreaterThanOrEqual(30);
  });

  it("a 30 s stall after the final dot: the worker's socket timeout (3 s here) gives up and re-sends, counted ambiguous", async () => {
    const tries = attempts();
    const stalled = (i: number) => i % 50 === 1;
    scenario = await startScenario({
      readers: 300,
      // The lease must outlast the socket timeout, as the defaults do (120 s vs 60 s).
      env: { LEASE_SECONDS: "8" },
      smtpUrlSuffix: "/?socketTimeout=3000",
      smtp: {
        afterDot: (to) => {
          const a = to[0] ?? "";
          return stalled(readerIndex(a)) && tries(a) === 1
            ? { action: "stall", ms: 30_000, keep: true }
            : undefined;
        },
      },
    });
    scenario.spawnWorker();
    const started = Date.now();
    const sendId = await scenario.send();
    await scenario.waitForSend(sendId, "done", 25_000);
    const ledger = await scenario.check(
      "30 s stall",
      sendId,
      {},
      `send took ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(ledger.duplicates).toBeGreaterThanOrEqual(6);
  });
});
