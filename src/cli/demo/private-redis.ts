import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { DigestError } from "../../errors.js";

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(preferred?: number): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.unref();
    probe.once("error", () => (preferred ? resolve(freePort()) : resolve(0)));
    probe.listen(preferred ?? 0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * The demo's own redis-server from PATH, on a free loopback port, keeping nothing on disk, stopped
 * when the demo ends: a newcomer needs no Redis set up to try Digest.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  if (spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status !== 0) {
    throw new DigestError(
      "unavailable",
      "digest demo needs redis-server on the PATH (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), " +
        "or REDIS_URL pointing at a running Redis",
    );
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const killNow = () => child.kill("SIGKILL");
  process.once("exit", killNow);
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => {});
  for (let attempt = 0; ; attempt++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (attempt > 100 || child.exitCode !== null) {
        killNow();
        throw new DigestError("unavailable", `redis-server did not start on port ${port}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    async stop() {
      process.off("exit", killNow);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
