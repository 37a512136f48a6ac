import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import type { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { openDatabase } from "../../src/db/connect.js";
import type { Database } from "../../src/db/database.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { type DeliveriesJob, openQueue, queueNames } from "../../src/queues.js";
import { startSend } from "../../src/sending/plan.js";
import { digestBin, repoRoot } from "../helpers/cli.js";
import {
  type ClusterTemplate,
  type PrivatePostgres,
  privateClusterTemplate,
  startPrivatePostgres,
} from "../helpers/postgres.js";
import { type PrivateRedis, startPrivateRedis } from "../helpers/redis.js";
import { type CaptureOptions, type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import { addReaders, secret, sendStatusOf, storeIssue, waitUntil } from "../sending/harness.js";
import { expectLedgerHolds, type Ledger, ledgerLine, readLedger } from "./ledger.js";

/**
 * One fault scenario's world: a private PostgreSQL cluster, a private redis-server and a capture
 * SMTP server, all on free loopback ports, plus real `digest worker` processes (compiled dist/)
 * with short leases so recovery takes seconds. Nothing shared is touched, so a scenario may stop,
 * restart or flush any of its servers.
 */
export interface ScenarioOptions {
  readers: number;
  smtp?: CaptureOptions;
  /** Worker environment overrides (e.g. SEND_RATE, LEASE_SECONDS). */
  env?: Record<string, string>;
  /** Appended to SMTP_URL, e.g. `/?socketTimeout=3000` (nodemailer reads transport options there). */
  smtpUrlSuffix?: string;
  /** Start workers again when they exit unasked, as systemd's Restart=always would. */
  supervise?: boolean;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  stderr: string[];
}

export interface Scenario {
  database: Database;
  pg: PrivatePostgres;
  redis: PrivateRedis;
  smtp: SmtpCapture;
  queue: Queue<DeliveriesJob>;
  env: Record<string, string>;
  domain: string;
  readers: number;
  workers: Set<WorkerProcess>;
  /** Workers started again by the supervisor. */
  restarts: number;
  spawnWorker(): WorkerProcess;
  /** Sends SIGTERM and waits for the exit (SIGKILL after timeoutMs); returns the exit code. */
  stopWorker(worker: WorkerProcess, timeoutMs?: number): Promise<number | null>;
  send(): Promise<string>;
  waitForSend(sendId: string, status?: string, timeoutMs?: number): Promise<void>;
  ledger(sendId: string, finalStatuses?: readonly string[]): Promise<Ledger>;
  /** Asserts the ledger holds and prints the scenario's one-line result. */
  check(name: string, sendId: string, expected?: Record<string, number>, extra?: string): Promise<Ledger>;
  close(): Promise<void>;
}

/**
 * A migrated cluster made once per file: each scenario's cluster starts as a copy of it, instead of
 * running initdb and the migrations again (seconds per scenario on a loaded box).
 */
let migrated: Promise<ClusterTemplate> | undefined;
function migratedCluster(): Promise<ClusterTemplate> {
  migrated ??= privateClusterTemplate(async (url) => {
    const database = await openDatabase({ url });
    try {
      await migrateDatabase(database);
    } finally {
      await database.close();
    }
  });
  return migrated;
}

export async function startScenario(options: ScenarioOptions): Promise<Scenario> {
  const startedAt = Date.now();
  const [pg, redis, smtp] = await Promise.all([
    migratedCluster().then((from) => startPrivatePostgres({ from })),
    startPrivateRedis(),
    startSmtpCapture(options.smtp ?? {}),
  ]);
  const database = await openDatabase({ url: pg.url });
  // Already migrated (the template); this only checks, as a scenario's own start always did.
  await migrateDatabase(database);
  const domain = "faults.test";
  await addReaders(database, options.readers, domain);
  const queuePrefix = "faults";
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: queuePrefix,
    SMTP_URL: smtp.url + (options.smtpUrlSuffix ?? ""),
    SECRET: secret,
    PUBLIC_URL: "http://localhost:3000",
    MAIL_DOMAIN: "example.org",
    NEWSLETTER_FILE: join(repoRoot, "newsletter.yaml"),
    // Above what a worker reaches here, so it paces nothing: scenarios whose meaning needs a pace
    // (stopping mid-send, a pause before the end) set their own.
    SEND_RATE: "1000",
    SEND_BATCH_SIZE: "50",
    SMTP_POOL: "3",
    // Short, so recovery takes seconds; not shorter, or a loaded 2-core CI box expires live leases.
    LEASE_SECONDS: "5",
    // Deferred rows wait for the reconciler to queue them again, and a retried row waits its
    // backoff first: both only set how soon a retry comes, which no scenario measures.
    RECONCILE_SECONDS: "0.25",
    STALL_SECONDS: "2",
    RETRY_BASE_SECONDS: "0.1",
    LOG_LEVEL: "warn",
    ...options.env,
  };
  const producer = new Redis(redis.url, { maxRetriesPerRequest: 3 });
  const queue = openQueue<DeliveriesJob>(
    queueNames.deliveries,
    { redisUrl: redis.url, queuePrefix },
    producer,
  );
  const workers = new Set<WorkerProcess>();
  const stopping = new Set<WorkerProcess>();
  let closed = false;

  const scenario: Scenario = {
    database,
    pg,
    redis,
    smtp,
    queue,
    env,
    domain,
    readers: options.readers,
    workers,
    restarts: 0,
    spawnWorker() {
      const child = spawn(process.execPath, [digestBin, "worker"], {
        cwd: repoRoot,
        env,
        stdio: ["ignore", "ignore", "pipe"],
      });
      const stderr: string[] = [];
      child.stderr?.on("data", (chunk: Buffer) => {
        if (stderr.length < 200) stderr.push(chunk.toString());
      });
      const worker: WorkerProcess = {
        child,
        pid: child.pid ?? 0,
        stderr,
        exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
      };
      workers.add(worker);
      void worker.exited.then(() => {
        workers.delete(worker);
        if (options.supervise && !closed && !stopping.has(worker)) {
          scenario.restarts++;
          setTimeout(() => !closed && scenario.spawnWorker(), 200);
        }
      });
      return worker;
    },
    async stopWorker(worker, timeoutMs = 20_000) {
      stopping.add(worker);
      worker.child.kill("SIGTERM");
      const timer = setTimeout(() => worker.child.kill("SIGKILL"), timeoutMs);
      const code = await worker.exited;
      clearTimeout(timer);
      return code;
    },
    async send() {
      const [issue] = await database.query<{ id: string }>(sql`select id from issues limit 1`);
      const issueId = issue?.id ?? (await storeIssue(database));
      const { sendId } = await startSend(
        { database, queue, batchSize: Number(env.SEND_BATCH_SIZE) },
        { issueId },
      );
      return sendId;
    },
    async waitForSend(sendId, status = "done", timeoutMs = 90_000) {
      // The scenario may have the database down for a moment: a failed look is just "not yet".
      const reached = () =>
        sendStatusOf(database, sendId).then(
          (now) => now === status,
          () => false,
        );
      await waitUntil(reached, timeoutMs, `send ${status}`);
    },
    ledger(sendId, finalStatuses) {
      return readLedger(database, sendId, smtp.messages, { count: options.readers, domain }, finalStatuses);
    },
    async check(name, sendId, expected = {}, extra = "") {
      const ledger = await scenario.ledger(sendId, ["sent", ...Object.keys(expected)]);
      process.stderr.write(`${ledgerLine(name, ledger, (Date.now() - startedAt) / 1000, extra)}\n`);
      expectLedgerHolds(ledger, expected);
      return ledger;
    },
    async close() {
      closed = true;
      // The private servers go whatever else fails: a leaked cluster would outlive the test run.
      try {
        // The checks are done: a worker gets a moment to stop cleanly, then SIGKILL. After a
        // PostgreSQL restart a pool can wait out the driver's whole 5 s close timeout (postgres.js
        // waits on a connection left mid-connect), in a worker and in this process's own handle:
        // that one is given half a second and finishes closing in the background.
        const handleClosed = database.close().catch(() => {});
        await Promise.all([
          ...[...workers].map((w) => scenario.stopWorker(w, 2_000)),
          Promise.race([handleClosed, new Promise((r) => setTimeout(r, 500))]),
        ]);
        await queue.close().catch(() => {});
        producer.disconnect();
        await smtp.close();
      } finally {
        await redis.stop(true);
        pg.destroy();
      }
    },
  };
  return scenario;
}

/** Waits until the capture server holds n messages of any kind. */
export async function afterMessages(scenario: Scenario, n: number, timeoutMs = 30_000): Promise<void> {
  await scenario.smtp.waitFor(n, timeoutMs);
}

/** The reader index of an address r{i}@faults.test (-1 for anything else). */
export function readerIndex(address: string): number {
  const match = /^r(\d+)@faults\.test$/.exec(address);
  return match ? Number(match[1]) : -1;
}
