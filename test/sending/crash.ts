import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { Redis } from "ioredis";
import type { Database } from "../../src/db/database.js";
import { type DeliveriesJob, openQueue, queueNames } from "../../src/queues.js";
import { startSend } from "../../src/sending/plan.js";
import { loadSendStatus, type SendProgress } from "../../src/sending/status.js";
import { digestBin, repoRoot } from "../helpers/cli.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";
import type { SmtpCapture } from "../helpers/smtp.js";
import { addReaders, secret, sendStatusOf, storeIssue, waitUntil } from "./harness.js";

/**
 * The crash drill: real `digest worker` processes (compiled dist/) share one send and are SIGKILLed
 * at random moments, then started again. What must hold: nobody is skipped, and every second copy
 * is counted as ambiguous.
 */
export interface CrashDrill {
  readers: number;
  workers: number;
  kills: number;
  sendRate: number;
}

export interface CrashOutcome {
  status: SendProgress;
  unique: number;
  duplicates: number;
  killed: number;
}

export async function crashDrill(database: Database & { url: string }, smtp: SmtpCapture, drill: CrashDrill) {
  const prefix = uniquePrefix("crash");
  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    REDIS_URL: sharedRedisUrl,
    QUEUE_PREFIX: prefix,
    SMTP_URL: smtp.url,
    SECRET: secret,
    PUBLIC_URL: "http://localhost:3000",
    MAIL_DOMAIN: "example.org",
    NEWSLETTER_FILE: join(repoRoot, "newsletter.yaml"),
    SEND_RATE: String(drill.sendRate),
    SEND_BATCH_SIZE: "100",
    LEASE_SECONDS: "2",
    RECONCILE_SECONDS: "1",
    STALL_SECONDS: "2",
    LOG_LEVEL: "warn",
  };
  const children = new Set<ChildProcess>();
  const spawnWorker = () => {
    const child = spawn(process.execPath, [digestBin, "worker"], {
      cwd: repoRoot,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", () => {});
    children.add(child);
    child.once("exit", () => children.delete(child));
    return child;
  };
  await addReaders(database, drill.readers, "crash.test");
  const issueId = await storeIssue(database);
  const producer = new Redis(sharedRedisUrl, { maxRetriesPerRequest: 3 });
  const queue = openQueue<DeliveriesJob>(
    queueNames.deliveries,
    { redisUrl: sharedRedisUrl, queuePrefix: prefix },
    producer,
  );
  let killed = 0;
  try {
    for (let i = 0; i < drill.workers; i++) spawnWorker();
    const { sendId } = await startSend({ database, queue, batchSize: 100 }, { issueId });
    await smtp.waitFor(Math.min(20, drill.readers), 30_000);
    while (killed < drill.kills && (await sendStatusOf(database, sendId)) !== "done") {
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 500));
      const victims = [...children];
      const victim = victims[Math.floor(Math.random() * victims.length)];
      if (!victim) continue;
      victim.kill("SIGKILL");
      killed++;
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      spawnWorker();
    }
    await waitUntil(
      async () => (await sendStatusOf(database, sendId)) === "done",
      120_000,
      "the send to finish",
    );
    const status = await loadSendStatus(database, sendId);
    const to = smtp.messages.flatMap((m) => m.to).filter((a) => a.endsWith("@crash.test"));
    const unique = new Set(to).size;
    return { status, unique, duplicates: to.length - unique, killed } satisfies CrashOutcome;
  } finally {
    const exits = [...children].map((c) => new Promise((r) => c.once("exit", r)));
    for (const child of children) child.kill("SIGTERM");
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 10_000))]);
    for (const child of children) child.kill("SIGKILL");
    await queue.close();
    producer.disconnect();
    await dropPrefix(prefix);
  }
}
