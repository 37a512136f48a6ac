import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { repoRoot } from "./cli.js";

export interface ParseWatchdog {
  /** How long `parseBounce` took on the message (ms, timed in its thread), or Infinity past `deadlineMs`. */
  time(raw: Buffer, deadlineMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Times `parseBounce` in a worker thread. A parse that runs away would freeze the test's own event
 * loop (its timers included) if it ran here; in a thread it is stopped at the deadline and the test
 * fails with a number instead of hanging. Node 20 gives a worker thread none of the parent's module
 * hooks, so the thread registers tsx's require hook to load the TypeScript source.
 */
export function startParseWatchdog(): ParseWatchdog {
  const tsx = createRequire(import.meta.url).resolve("tsx/cjs/api");
  const code = `
    const { parentPort } = require("node:worker_threads");
    require(${JSON.stringify(tsx)}).register();
    const { parseBounce } = require(${JSON.stringify(`${repoRoot}/src/bounces/parse.ts`)});
    parentPort.on("message", async (raw) => {
      const started = performance.now();
      await parseBounce(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
      parentPort.postMessage(performance.now() - started);
    });
    parentPort.postMessage("ready");`;
  let worker: Worker | undefined;
  let ready: Promise<void> | undefined;
  // The one message in hand: what the thread answers (or fails with) goes to it.
  let pending: { resolve(ms: number): void; reject(error: Error): void } | undefined;
  const start = () => {
    const w = new Worker(code, { eval: true });
    worker = w;
    ready = new Promise<void>((resolve, reject) => {
      w.on("message", (message: "ready" | number) => {
        if (message === "ready") return resolve();
        pending?.resolve(message);
      });
      w.on("error", (error) => {
        reject(error);
        pending?.reject(error);
      });
    });
  };
  return {
    async time(raw, deadlineMs) {
      if (!worker) start();
      await ready;
      const w = worker as Worker;
      const copy = new Uint8Array(raw);
      try {
        return await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => {
            worker = undefined;
            void w.terminate();
            resolve(Number.POSITIVE_INFINITY);
          }, deadlineMs);
          pending = {
            resolve: (ms) => {
              clearTimeout(timer);
              resolve(ms);
            },
            reject: (error) => {
              clearTimeout(timer);
              reject(error);
            },
          };
          w.postMessage(copy, [copy.buffer]);
        });
      } finally {
        pending = undefined;
      }
    },
    async close() {
      await worker?.terminate();
    },
  };
}
