import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningServe, startServe } from "../../src/cli/serve-process.js";
import { createTestDatabase } from "../helpers/db.js";
import { dropPrefix, uniquePrefix } from "../helpers/redis.js";
import { serveSettingsFor } from "../inbound/harness.js";

/**
 * `digest serve` behind a proxy nobody named: X-Forwarded-For is ignored (anyone can write it), so
 * every client counts as the proxy. The operator hears of it once, at the first such request.
 */
const database = await createTestDatabase();
const prefix = uniquePrefix("forwarded");
const running: RunningServe[] = [];
afterAll(async () => {
  for (const serve of running) await serve.close();
  await dropPrefix(prefix);
});

async function serveLogging(trustedProxies: string[] | undefined) {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const serve = await startServe(await serveSettingsFor(prefix, { trustedProxies }), database, log);
  running.push(serve);
  const get = (headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${serve.httpPort}/healthz`, { headers }).then((r) => r.status);
  const warnings = () => lines.filter((l) => l.level === 40 && l.msg.includes("X-Forwarded-For"));
  return { get, warnings };
}

describe("X-Forwarded-For without TRUSTED_PROXIES", () => {
  it("is warned about once, at the first request that carries it, and not when a proxy is trusted", async () => {
    const { get, warnings } = await serveLogging(undefined);
    expect(await get()).toBe(200);
    expect(warnings()).toHaveLength(0);
    expect(await get({ "X-Forwarded-For": "198.51.100.7" })).toBe(200);
    expect(await get({ "X-Forwarded-For": "198.51.100.8" })).toBe(200);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]?.msg).toContain("TRUSTED_PROXIES");

    const behindNamedProxy = await serveLogging(["127.0.0.1"]);
    expect(await behindNamedProxy.get({ "X-Forwarded-For": "198.51.100.7" })).toBe(200);
    expect(behindNamedProxy.warnings()).toHaveLength(0);
  });
});
