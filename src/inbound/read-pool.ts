import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { PARSED_BYTES } from "../bounces/parse.js";
import { DigestError } from "../errors.js";
import type { ReadRequest, ReadResult } from "./read.js";

/**
 * Reading messages off the event loop. `digest serve` answers HTTP, SMTP and the bounce mailbox on
 * one event loop; a message is parsed in a worker thread instead, with a time limit, so no message
 * can stall the others, however it is built.
 */
export interface MessageReader {
  /**
   * Reads the message's first PARSED_BYTES. Rejects with UnreadableMessage when reading took longer
   * than the time limit or killed the thread (the message is at fault: reading it again would do
   * the same), with DigestError "unavailable" when no thread could be started or the pool is closed.
   */
  read(raw: Buffer, request: Omit<ReadRequest, "raw">): Promise<ReadResult>;
  /** Two phases: refuse new messages, finish those in hand, then stop the threads. */
  close(): Promise<void>;
}

export class UnreadableMessage extends DigestError {
  override readonly name = "UnreadableMessage";
  constructor(why: string, options?: { cause?: unknown }) {
    super("invalid", `the message could not be read: ${why}`, options);
  }
}

export interface ReadPoolOptions {
  /** Threads reading at once; default 2 (or 1 on a single core). */
  threads?: number;
  /** How long one message may take once a thread has it; default 5 s. */
  timeLimitMs?: number;
}

interface Task {
  raw: Uint8Array;
  request: Omit<ReadRequest, "raw">;
  resolve(result: ReadResult): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  task?: Task;
  timer?: NodeJS.Timeout;
}

/**
 * The thread's code. Compiled, the worker is `read-worker.js` beside this file in dist/. Under vitest
 * or tsx this file is TypeScript and so is the worker; Node 20 gives a worker thread none of the
 * parent's module hooks (nor those of `--import tsx` in its execArgv), so the thread registers tsx's
 * require hook itself and loads the worker through it. tsx is a dev dependency: only source runs need it.
 */
function workerSource(): { file: URL } | { code: string } {
  if (!import.meta.url.endsWith(".ts")) return { file: new URL("./read-worker.js", import.meta.url) };
  const tsx = createRequire(import.meta.url).resolve("tsx/cjs/api");
  const entry = fileURLToPath(new URL("./read-worker.ts", import.meta.url));
  return { code: `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)});` };
}

export function startReadPool(options: ReadPoolOptions = {}): MessageReader {
  const size = Math.max(1, options.threads ?? Math.min(2, availableParallelism()));
  const timeLimitMs = options.timeLimitMs ?? 5000;
  const threads = new Set<Thread>();
  const waiting: Task[] = [];
  let closing = false;
  let drained: (() => void) | undefined;

  function spawn(): void {
    const source = workerSource();
    const worker = new Worker("file" in source ? source.file : source.code, {
      eval: "code" in source,
      // A message that makes the parser allocate without end kills its thread, not the process.
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    const thread: Thread = { worker, ready: false };
    threads.add(thread);
    worker.unref();
    worker.on("message", (message: "ready" | { result?: ReadResult; error?: string }) => {
      if (message === "ready") {
        thread.ready = true;
        return next();
      }
      const task = finish(thread);
      if (!task) return;
      if (message.error !== undefined) task.reject(new UnreadableMessage(message.error));
      else task.resolve(message.result ?? {});
      next();
    });
    const gone = (error?: Error) => {
      threads.delete(thread);
      const task = finish(thread);
      if (task) {
        task.reject(
          thread.ready
            ? new UnreadableMessage("its reading thread stopped", { cause: error })
            : new DigestError("unavailable", "no thread to read messages could be started", { cause: error }),
        );
      } else if (!thread.ready) {
        // A thread that never started will not start for the next message either.
        for (const t of waiting.splice(0))
          t.reject(
            new DigestError("unavailable", "no thread to read messages could be started", { cause: error }),
          );
      }
      next();
    };
    worker.on("error", gone);
    worker.on("exit", () => gone());
  }

  function finish(thread: Thread): Task | undefined {
    const task = thread.task;
    clearTimeout(thread.timer);
    thread.task = undefined;
    thread.timer = undefined;
    thread.worker.unref();
    return task;
  }

  function next(): void {
    for (const thread of threads) {
      if (waiting.length === 0) break;
      if (!thread.ready || thread.task) continue;
      const task = waiting.shift() as Task;
      thread.task = task;
      thread.worker.ref();
      thread.timer = setTimeout(() => {
        threads.delete(thread);
        finish(thread);
        task.reject(new UnreadableMessage(`reading took longer than ${timeLimitMs / 1000} s`));
        void thread.worker.terminate();
        next();
      }, timeLimitMs);
      thread.worker.postMessage({ ...task.request, raw: task.raw }, [task.raw.buffer as ArrayBuffer]);
    }
    if (waiting.length > 0 && threads.size < size && ![...threads].some((t) => !t.ready)) spawn();
    if (closing && waiting.length === 0 && ![...threads].some((t) => t.task)) drained?.();
  }

  return {
    read(raw, request) {
      if (closing) return Promise.reject(new DigestError("unavailable", "the message reader is closing"));
      // A copy of just the bytes read, handed over (not copied again) to the thread.
      const head = new Uint8Array(raw.subarray(0, PARSED_BYTES));
      return new Promise<ReadResult>((resolve, reject) => {
        waiting.push({ raw: head, request, resolve, reject });
        next();
      });
    },
    async close() {
      closing = true;
      await new Promise<void>((resolve) => {
        drained = resolve;
        next();
      });
      await Promise.all([...threads].map((t) => t.worker.terminate()));
      threads.clear();
    },
  };
}
