import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { prefixPattern, testRunId } from "./run.js";
import { freePort } from "./smtp.js";

/** The shared Redis every machine runs. Tests only add keys under their own unique prefix to it. */
export const sharedRedisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * A QUEUE_PREFIX no other test uses, so queues never see another test's jobs. It carries the run's
 * id, so the end of the run deletes its keys even when the test could not (test/global-setup.ts).
 */
export function uniquePrefix(label = "t"): string {
  return `${prefixPattern(testRunId())}${label}-${randomBytes(5).toString("hex")}`;
}

/** Deletes every key of a prefix from the shared Redis (after a test). */
export async function dropPrefix(prefix: string, url = sharedRedisUrl): Promise<void> {
  const redis = new Redis(url);
  try {
    // Queue keys are `{prefix}:…` (a cluster hash tag); the service's own keys (webhook replay
    // memory, rate buckets) are `prefix:…`.
    for (const pattern of [`{${prefix}}*`, `${prefix}:*`]) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
    }
  } finally {
    redis.disconnect();
  }
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, or SIGKILL with `kill`). */
  stop(kill?: boolean): Promise<void>;
  /** Starts it again on the same port, empty (no persistence). */
  restart(): Promise<void>;
}

/**
 * A redis-server of this test's own on a free port, for tests that restart, flush or stop Redis:
 * never do that to the shared one.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "digest-redis-"));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      {
        stdio: "ignore",
      },
    );
    const probe = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // Refused connections while the server starts are expected; unheard, ioredis prints them.
    probe.on("error", () => {});
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const stop = async (kill = false) => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill(kill ? "SIGKILL" : "SIGTERM");
    await exited;
  };
  await start();
  process.once("exit", () => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    async restart() {
      await stop();
      await start();
    },
  };
}
