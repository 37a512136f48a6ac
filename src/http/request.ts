import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "pino";
import { forwardedClient } from "../limits.js";

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

/** The socket's peer; undefined under `app.request()` in tests, which has no socket. */
export function socketAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/**
 * The client's address, for rate limits and consent records: the socket's peer, or, when that peer
 * is a trusted proxy (`trusted`, built once from TRUSTED_PROXIES by `proxyMatcher`), the right-most
 * untrusted hop of X-Forwarded-For. Without trusted proxies the header is ignored: any client can
 * write it, and believing it would let one client spread itself over every rate-limit bucket. Count
 * limits under `limitKey(address)` (IPv6 per /64); store the address itself in consent records.
 */
export function clientAddress(
  c: Context,
  trusted: (address: string) => boolean = () => false,
): string | undefined {
  return forwardedClient(socketAddress(c), c.req.header("x-forwarded-for"), trusted);
}

/**
 * X-Forwarded-For arriving while TRUSTED_PROXIES names no proxy: most likely a reverse proxy nobody
 * named, so every client has the proxy's address and each limit counts them all as one client. Said
 * once, at the first such request: a line per request would flood the log, none would hide it.
 */
export function warnUntrustedForwarding(log: Pick<Logger, "warn">): MiddlewareHandler {
  let said = false;
  return async (c, next) => {
    if (!said && c.req.header("x-forwarded-for") !== undefined) {
      said = true;
      log.warn(
        { peer: socketAddress(c) },
        "requests carry X-Forwarded-For but TRUSTED_PROXIES is unset: the header is ignored, so behind a proxy every client counts as one for the rate limits; name the proxy in TRUSTED_PROXIES",
      );
    }
    await next();
  };
}

/** Per-IP limit on the token pages (/confirm, /manage, /unsubscribe): plenty for a person, not for a crawler. */
export const pageLimit = { limit: 120, windowSeconds: 600 };

export {
  limitKey,
  memoryRateLimiter,
  type RateLimiter,
  redisRateLimiter,
} from "../limits.js";
