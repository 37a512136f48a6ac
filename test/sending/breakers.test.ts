import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import type { DeliveryWorker } from "../../workers/deliveries-worker.js";
import { digestAsync } from "../helpers/cli.js";
import type { TestDatabase } from "../helpers/db.js";
import { sharedRedisUrl } from "../helpers/redis.js";
import type { SmtpCapture } from "../helpers/smtp.js";
import { type InboundService, startInboundService } from "../inbound/harness.js";
import { identity, type Pipeline, pipeline, sendStatusOf, storeIssue, waitUntil } from "./harness.js";

/**
 * SPEC §6 "Guardrails", end to end: a real send of 2,000 readers through the worker to an
 * in-process SMTP server, complaints coming back as ARF reports mailed to the inbound server (the
 * Message-ID of our own message as proof, as an ISP's feedback loop sends them), hard bounces as
 * the receiving server's 550 5.1.1 answers. The send pauses itself, says why, and goes on only
 * when staff force it (the compiled CLI, as a person runs it).
 */
const readers = 2000;
let service: InboundService;
let database: TestDatabase;
let outbox: SmtpCapture;
let sending: Pipeline;
let issueId: string;
let env: Record<string, string>;
/** ARF reports on their way to the inbound server. */
let reports: Promise<unknown>[] = [];

beforeAll(async () => {
  service = await startInboundService("breakers");
  ({ database, outbox } = service);
  sending = await pipeline(database, outbox.url);
  issueId = await storeIssue(database);
  env = {
    DATABASE_URL: database.url,
    REDIS_URL: sharedRedisUrl,
    QUEUE_PREFIX: sending.prefix,
    SECRET: "a-test-secret-that-is-long-enough-0123456789",
    TIMEZONE: "UTC",
  };
});

afterAll(async () => {
  await Promise.allSettled(reports);
  await sending?.close();
  await service?.close();
});

beforeEach(async () => {
  // Each test mails its own 2,000 readers: the previous test's stop being readers.
  await database.query(sql`update subscribers set status = 'unsubscribed' where status = 'active'`);
  outbox.options.onData = undefined;
  outbox.options.onRcpt = undefined;
  reports = [];
});

/**
 * The send rate of the one worker running: slow enough that complaint reports land while a send
 * runs, where that is the subject (250: 2,000 readers in seconds); else as fast as the machine.
 */
const reportPace = 250;
const fullPace = 2000;
let worker: { rate: number; running: DeliveryWorker } | undefined;
async function workerAt(sendRate: number): Promise<void> {
  if (worker?.rate === sendRate) return;
  await worker?.running.close();
  worker = { rate: sendRate, running: await sending.startWorker({ sendRate }) };
}

/**
 * r0@domain .. r1999@domain, whose ids sort as their numbers do: the send plans (and so mails) in id
 * order, so the readers picked by number below are spread evenly through the send, as the rates say.
 */
async function addReaders(database: TestDatabase, n: number, domain: string, test: number) {
  await database.query(sql`insert into subscribers (id, email, status, consent_source)
    select (${`0000000${test}-0000-4000-8000-`} || lpad(i::text, 12, '0'))::uuid, 'r' || i || '@' || ${domain},
      'active', 'admin'
    from generate_series(0, ${n - 1}) as i`);
}

/** r{i}@{domain} -> i */
const indexOf = (address: string) => Number(/^r(\d+)@/.exec(address)?.[1] ?? -1);

/** An ISP's feedback-loop report (RFC 5965) about the message `raw`, to abuse@ of our domain. */
function arfAbout(address: string, raw: Buffer): string {
  const headers = raw.toString("utf8").split("\r\n\r\n")[0];
  return [
    "From: feedback@isp.test",
    `To: abuse@${identity.domain}`,
    "Subject: Abuse report",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=feedback-report; boundary="b2"',
    "",
    "--b2",
    "Content-Type: text/plain",
    "",
    "This is an email abuse report.",
    "--b2",
    "Content-Type: message/feedback-report",
    "",
    "Feedback-Type: abuse",
    "User-Agent: isp-fbl/1.0",
    "Version: 1",
    `Original-Rcpt-To: ${address}`,
    "--b2",
    "Content-Type: text/rfc822-headers",
    "",
    headers,
    "--b2--",
    "",
  ].join("\r\n");
}

/** Readers whose index passes `complains` report our message as spam as soon as it is accepted. */
function complaintsFrom(complains: (i: number) => boolean) {
  const client = service.client({ pool: true });
  outbox.options.onData = (to, raw) => {
    const address = to[0] ?? "";
    if (complains(indexOf(address)))
      reports.push(
        client.sendMail({
          envelope: { from: "feedback@isp.test", to: [`abuse@${identity.domain}`] },
          raw: arfAbout(address, raw),
        }),
      );
    return undefined;
  };
}

async function deliveryCounts(sendId: string) {
  const [row] = await database.query<{ sent: number; handled: number; total: number }>(sql`
    select count(*) filter (where status = 'sent')::int as sent,
      count(*) filter (where status in ('sent', 'bounced', 'failed', 'skipped'))::int as handled,
      count(*)::int as total
    from deliveries where send_id = ${sendId}`);
  return row ?? { sent: 0, handled: 0, total: 0 };
}

/**
 * The CLI runs beside this process, never blocking it: the worker and the inbound server live here,
 * and a CLI waiting for a row lock that a frozen worker holds would wait for ever.
 */
const digest = (args: string[]) => digestAsync(args, { env });
const statusJson = async (sendId: string) => JSON.parse((await digest(["status", sendId, "--json"])).stdout);

/**
 * The waits are long because a loaded 2-core machine (CI with the fault suites beside) sends these
 * 2,000 readers five times slower than an idle one; what is asserted is where each send ends.
 */
async function expectForcedResumeOnly(sendId: string, reason: RegExp): Promise<void> {
  const plain = await digest(["resume", sendId]);
  expect(plain.code).toBe(2);
  expect(plain.stderr).toContain("--force");
  expect(await sendStatusOf(database, sendId)).toBe("paused");
  expect((await statusJson(sendId)).pausedReason).toMatch(reason);

  const forced = await digest(["resume", sendId, "--force"]);
  expect(forced.stderr).toBe("");
  expect(forced.code).toBe(0);
  expect(forced.stdout.trim()).toBe(`${sendId} running`);
  // Until it stops running, then: done (a breaker that tripped again would leave it paused, and
  // its reason says at what rate).
  await waitUntil(
    async () => (await sendStatusOf(database, sendId)) !== "running",
    120_000,
    "send done",
  ).catch(async (error: Error) => {
    // Where the rows stand says which part stopped (a stranded row, a lost job, a slow worker).
    const rows = await database.query(sql`select status, attempts, ambiguous, count(*)::int as n,
          min(last_response) as response, min(next_attempt_at)::text as next_attempt
        from deliveries where send_id = ${sendId} group by 1, 2, 3 order by 1, 2, 3`);
    throw new Error(`${error.message}; deliveries: ${JSON.stringify(rows)}`, { cause: error });
  });
  const after = await statusJson(sendId);
  expect({ status: after.status, pausedReason: after.pausedReason ?? null }).toEqual({
    status: "done",
    pausedReason: null,
  });
  const counts = await deliveryCounts(sendId);
  expect(counts.handled).toBe(readers);
}

describe("a send that readers complain about or that bounces hard pauses itself", () => {
  it("pauses a 2,000-reader send at 0.5 % complaints (ARF by SMTP) before its end, and goes on only with --force", async () => {
    await addReaders(database, readers, "complaining.test", 1);
    // 10 readers of 2,000, spread through the list.
    complaintsFrom((i) => i % 200 === 50);
    await workerAt(reportPace);
    const { sendId } = await startSend(sending.plan, { issueId, again: true });
    await waitUntil(async () => (await sendStatusOf(database, sendId)) !== "running", 120_000, "a pause");
    expect(await sendStatusOf(database, sendId)).toBe("paused");
    expect((await deliveryCounts(sendId)).sent).toBeLessThan(readers);
    await Promise.all(reports);

    // Both read the paused send: one CLI start's wait instead of two.
    const [status, { stdout: text }] = await Promise.all([statusJson(sendId), digest(["status", sendId])]);
    expect(status.status).toBe("paused");
    expect(status.pausedReason).toMatch(
      /^complaints reached [\d.]+ % of sent \(\d+ of \d+; the limit is 0\.3 %\)/,
    );
    expect(status.guardrails.breaker).toBe("complaints");
    expect(status.guardrails.complaints).toBeGreaterThan(0);
    expect(text).toContain("paused: complaints reached");
    expect(text).toContain(`digest resume ${sendId} --force`);

    // The readers who complained before the pause were enough; the rest of the list is fine.
    outbox.options.onData = undefined;
    await workerAt(fullPace);
    await expectForcedResumeOnly(sendId, /^complaints reached/);
    const [forced] = await database.query<{ forced_complaints: number | null; breaker: string | null }>(
      sql`select forced_complaints, breaker from sends where id = ${sendId}`,
    );
    expect(forced?.breaker).toBeNull();
    expect(forced?.forced_complaints).toBe(status.guardrails.complaints);
  }, 300_000);

  it("pauses a 2,000-reader send at 6 % hard bounces (550 5.1.1) before its end, and goes on only with --force", async () => {
    await addReaders(database, readers, "bouncing.test", 2);
    // 3 in every 50 readers do not exist: 6 %, evenly spread.
    outbox.options.onRcpt = (address) =>
      [0, 17, 34].includes(indexOf(address) % 50)
        ? { code: 550, message: "5.1.1 <unknown>: No such user here" }
        : undefined;
    // Refused at RCPT, so counted before the next claim: the breaker needs no pace.
    await workerAt(fullPace);
    const { sendId } = await startSend(sending.plan, { issueId, again: true });
    await waitUntil(async () => (await sendStatusOf(database, sendId)) !== "running", 120_000, "a pause");
    expect(await sendStatusOf(database, sendId)).toBe("paused");
    expect((await deliveryCounts(sendId)).handled).toBeLessThan(readers);

    const status = await statusJson(sendId);
    expect(status.pausedReason).toMatch(
      /^hard bounces reached [\d.]+ % of sent \(\d+ of \d+; the limit is 5 %\)/,
    );
    expect(status.guardrails.breaker).toBe("hard-bounces");

    // The same 6 % go on bouncing after the forced resume: that is the rate accepted, not a rise.
    await expectForcedResumeOnly(sendId, /^hard bounces reached/);
    const [bounced] = await database.query<{ n: number }>(
      sql`select count(*)::int as n from subscribers where status = 'bounced' and email like '%@bouncing.test'`,
    );
    expect(bounced?.n).toBe(120);
  }, 300_000);

  it("never pauses a healthy 2,000-reader send: 2 % hard bounces, and two late complaints that only warn", async () => {
    await addReaders(database, readers, "healthy.test", 3);
    outbox.options.onRcpt = (address) =>
      indexOf(address) % 50 === 0 ? { code: 550, message: "5.1.1 <unknown>: No such user here" } : undefined;
    complaintsFrom((i) => i === 1501 || i === 1901);
    // The late complaints are awaited before status is read: they need no pace either.
    await workerAt(fullPace);
    const { sendId } = await startSend(sending.plan, { issueId, again: true });
    const seen = new Set<string>();
    await waitUntil(
      async () => {
        const now = await sendStatusOf(database, sendId);
        seen.add(now);
        return now === "done";
      },
      120_000,
      "send done",
    );
    await Promise.all(reports);
    expect([...seen]).not.toContain("paused");
    expect((await deliveryCounts(sendId)).handled).toBe(readers);
    const status = await statusJson(sendId);
    expect(status.pausedReason).toBeNull();
    expect(status.guardrails).toMatchObject({ breaker: null, complaints: 2, hardBounces: 40 });
    expect(status.guardrails.warning).toMatch(/^complaints at 0\.1 % of sent \(2 of 2000\)/);
  }, 300_000);
});
