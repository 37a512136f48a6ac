import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { startSend } from "../../src/sending/plan.js";
import { relayRate, relayRateKey } from "../../src/sending/relay-rate.js";
import { digest } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { addReaders, pipeline, secret, storeIssue } from "../sending/harness.js";

/** `digest status` names the shared rate the relay's throttling forced, and why (compiled CLI). */
const database = await createTestDatabase();
const pipe = await pipeline(database, "smtp://127.0.0.1:9");
const redis = new Redis(pipe.redisUrl);
afterAll(async () => {
  redis.disconnect();
  await pipe.close();
});
const env = {
  DATABASE_URL: database.url,
  REDIS_URL: pipe.redisUrl,
  QUEUE_PREFIX: pipe.prefix,
  SECRET: secret,
  SEND_RATE: "200",
};
const answer = "454 Throttling failure: Maximum sending rate exceeded.";

describe("digest status while the relay throttles", { timeout: 60_000 }, () => {
  it("prints the lowered rate in force, SEND_RATE and the relay's answer, in JSON and in text", async () => {
    await addReaders(database, 3);
    const { sendId } = await startSend(pipe.plan, { issueId: await storeIssue(database) });
    // What a worker does on a throttled answer when the relay took 40 messages in the last second.
    await relayRate(redis, pipe.prefix, 200).clean(40);
    await relayRate(redis, pipe.prefix, 200).throttled(answer);

    const json = digest(["status", sendId, "--json"], { env });
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout);
    expect(status).toMatchObject({
      sendId,
      status: "running",
      ambiguous: 0,
      reasons: [],
      pausedReason: null,
    });
    expect(status.rateLimit).toEqual({ inForce: 36, configured: 200, reason: `relay throttling: ${answer}` });

    const text = digest(["status", sendId], { env });
    expect(text.stdout).toContain(`rate limit 36 msg/s of SEND_RATE 200: relay throttling: ${answer}`);
  });

  it("shows control characters in the relay's answer as \\xNN, so a relay cannot rewrite the terminal", async () => {
    // The first case's readers and issue; a send of its own, running.
    const { sendId } = await startSend(pipe.plan, { issueId: await storeIssue(database), again: true });
    // The rate starts over at SEND_RATE, so this answer (every byte of it the relay's) is the reason.
    await redis.del(relayRateKey(pipe.prefix));
    await relayRate(redis, pipe.prefix, 200).throttled("451 4.7.1 rate limited\x1b[2J\x1b]0;owned\x07");
    const text = digest(["status", sendId], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain("\x1b");
    expect(text.stdout).toContain("rate limited\\x1b[2J\\x1b]0;owned\\x07");
  });

  it("says the rate is unknown, and still prints the status, when Redis does not answer", () => {
    const r = digest(["status", "--json"], { env: { ...env, REDIS_URL: "redis://127.0.0.1:9" } });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.rateLimit).toMatchObject({ inForce: null, configured: 200 });
    expect(status.rateLimit.reason).toMatch(/^unknown: Redis did not answer/);
  });
});
