import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningServe, startServe } from "../../src/cli/serve-process.js";
import { silentLogger } from "../../src/log.js";
import { createTestDatabase } from "../helpers/db.js";
import { dropPrefix, uniquePrefix } from "../helpers/redis.js";
import { serveSettingsFor } from "../inbound/harness.js";
import { mailgunSignature } from "./sign.js";

/**
 * `digest serve` answers from its first request: a signed webhook sent the moment start returns
 * is checked against the replay memory in Redis, not refused with a 500 because the connection to
 * Redis was still being made.
 */
const database = await createTestDatabase();
const prefix = uniquePrefix("serve-start");
const mailgunKey = `key-${randomBytes(16).toString("hex")}`;
const running: RunningServe[] = [];

afterAll(async () => {
  for (const serve of running) await serve.close();
  await dropPrefix(prefix);
});

const start = async () => {
  const serve = await startServe(
    await serveSettingsFor(prefix, { webhookMailgunSigningKey: mailgunKey }),
    database,
    silentLogger,
  );
  running.push(serve);
  return serve;
};

describe("digest serve, the moment it starts", () => {
  it("answers a signed Mailgun webhook sent at once with 200", async () => {
    // The first start loads the modules serve uses; the later ones start as fast as a warm process.
    await start();
    for (let i = 0; i < 5; i++) {
      const serve = await start();
      const res = await fetch(`http://127.0.0.1:${serve.httpPort}/webhooks/mailgun`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          signature: mailgunSignature(mailgunKey),
          "event-data": {
            id: `start-${i}-${randomBytes(4).toString("hex")}`,
            event: "complained",
            recipient: "nobody@readers.test",
            message: { headers: { "message-id": "unknown@example.org" } },
          },
        }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
    }
  });
});
