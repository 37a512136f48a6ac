/**
 * A worker thread of the read pool (read-pool.ts): reads one message at a time. It posts "ready"
 * once its modules are loaded, so the pool's time limit counts reading, not starting up.
 */
import { parentPort } from "node:worker_threads";
import { type ReadRequest, readMessage } from "./read.js";

const port = parentPort;
if (!port) throw new Error("read-worker.ts runs only as a worker thread");
port.on("message", (request: ReadRequest) => {
  readMessage(request).then(
    (result) => port.postMessage({ result }),
    (error: unknown) => port.postMessage({ error: error instanceof Error ? error.message : String(error) }),
  );
});
port.postMessage("ready");
