import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Redis } from "ioredis";

/**
 * Reading what a client sent. Every way a body can be wrong (wrong type, bad JSON, an array where
 * an object belongs, a file where text belongs) ends as a 4xx here, before domain code sees it.
 */
export type Fields = Record<string, string | undefined>;

export async function readFields(c: Context): Promise<Fields> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  let value: unknown;
  if (type === "application/json") {
    try {
      value = JSON.parse(await c.req.text());
    } catch {
      throw new HTTPException(400, { message: "the body is not valid JSON" });
    }
  } else if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") {
    try {
      value = await c.req.parseBody();
    } catch {
      throw new HTTPException(400, { message: "the form data cannot be read" });
    }
  } else {
    throw new HTTPException(415, { message: "send application/json or a form" });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HTTPException(400, { message: "the body must be an object of fields" });
  }
  const fields: Fields = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (typeof v === "string") fields[key] = v;
    else if (typeof v === "number" || typeof v === "boolean") fields[key] = String(v);
    else throw new HTTPException(400, { message: `the field "${key.slice(0, 40)}" must be text` });
  }
  return fields;
}

/**
 * The client's address as the socket sees it. X-Forwarded-For is not trusted: any client can
 * write it, and trusting it would let one client spread itself over every rate-limit bucket.
 */
export function socketAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // app.request() in tests has no socket
  }
}

/** Counts hits per key in a fixed window; `hit` answers whether this one is still allowed. */
export interface RateLimiter {
  hit(key: string): Promise<boolean>;
}

/**
 * A Redis counter per key and window under the queue prefix, so every `digest serve` process
 * behind a load balancer shares one count.
 */
export function redisRateLimiter(
  redis: Redis,
  prefix: string,
  options: { limit: number; windowSeconds: number },
): RateLimiter {
  return {
    async hit(key) {
      const window = Math.floor(Date.now() / 1000 / options.windowSeconds);
      const name = `{${prefix}}:ratelimit:${key}:${window}`;
      const results = await redis.multi().incr(name).expire(name, options.windowSeconds).exec();
      const [error, n] = results?.[0] ?? [new Error("no reply from Redis")];
      if (error) throw error;
      return Number(n) <= options.limit;
    },
  };
}

/** The same limit in this process's memory: for tests and single-process installs. */
export function memoryRateLimiter(options: { limit: number; windowSeconds: number }): RateLimiter {
  const counts = new Map<string, { window: number; n: number }>();
  return {
    async hit(key) {
      const window = Math.floor(Date.now() / 1000 / options.windowSeconds);
      const entry = counts.get(key);
      if (!entry || entry.window !== window) {
        if (counts.size > 100_000) counts.clear();
        counts.set(key, { window, n: 1 });
        return 1 <= options.limit;
      }
      entry.n++;
      return entry.n <= options.limit;
    },
  };
}
