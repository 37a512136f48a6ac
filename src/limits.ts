import { BlockList, isIP } from "node:net";
import type { Redis } from "ioredis";

/**
 * Counting requests per client, shared by the HTTP service and the inbound SMTP server: a fixed
 * window per key, and the key a client is counted under (its address, IPv6 per /64).
 */

/** Counts hits per key in a fixed window; `hit` answers whether this one is still allowed. */
export interface RateLimiter {
  hit(key: string): Promise<boolean>;
}

export interface Limit {
  limit: number;
  windowSeconds: number;
}

/**
 * A Redis counter per key and window under the queue prefix, so every `digest serve` process
 * behind a load balancer shares one count.
 */
export function redisRateLimiter(redis: Redis, prefix: string, options: Limit): RateLimiter {
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
export function memoryRateLimiter(options: Limit): RateLimiter {
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

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports) as IPv4. */
export function plainAddress(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(trimmed);
  return mapped?.[1] ?? trimmed;
}

/**
 * The key a client is counted under: an IPv4 address as it is, an IPv6 address by its /64. One
 * IPv6 host usually owns a whole /64, so counting single addresses would let it rotate through
 * 2^64 buckets.
 */
export function limitKey(address: string | undefined): string {
  if (!address) return "unknown";
  const plain = plainAddress(address);
  if (isIP(plain) !== 6) return plain;
  const groups = expandIpv6(plain);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : plain;
}

function expandIpv6(address: string): string[] | undefined {
  const zoneless = address.split("%")[0] ?? "";
  const [head = "", tail] = zoneless.split("::");
  const part = (s: string) => (s === "" ? [] : s.split(":"));
  let groups = [...part(head)];
  let rest = tail === undefined ? [] : part(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4 is handled above; 64:ff9b::1.2.3.4 here) is two groups.
  const last = (tail === undefined ? groups : rest).at(-1);
  if (last?.includes(".")) {
    const bytes = last.split(".").map(Number);
    const hex = [((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0), ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)].map(
      (n) => n.toString(16),
    );
    if (tail === undefined) groups = [...groups.slice(0, -1), ...hex];
    else rest = [...rest.slice(0, -1), ...hex];
  }
  const missing = 8 - groups.length - rest.length;
  if (tail !== undefined) groups = [...groups, ...Array<string>(Math.max(missing, 0)).fill("0"), ...rest];
  if (groups.length !== 8) return undefined;
  return groups.map((g) => Number.parseInt(g, 16).toString(16));
}

/**
 * TRUSTED_PROXIES as a matcher. Throws on an entry that is neither an address nor a CIDR, so a
 * typo is reported when the service starts instead of silently trusting nobody.
 */
export function proxyMatcher(entries: readonly string[] = []): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [ip = "", bits] = entry.split("/");
    const plain = plainAddress(ip);
    const family = isIP(plain);
    const prefix = bits === undefined ? undefined : Number(bits);
    if (
      family === 0 ||
      (prefix !== undefined &&
        (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)))
    ) {
      throw new Error(`TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range`);
    }
    const type = family === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) list.addAddress(plain, type);
    else list.addSubnet(plain, prefix, type);
  }
  if (entries.length === 0) return () => false;
  return (address) => {
    const plain = plainAddress(address);
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 4 ? "ipv4" : "ipv6");
  };
}

/**
 * The client's address: the socket's peer, or, when that peer is a trusted proxy, the right-most
 * hop of X-Forwarded-For that is not itself a trusted proxy. Hops left of that one were written by
 * the client and prove nothing (anyone can send `X-Forwarded-For: 1.2.3.4`).
 */
export function forwardedClient(
  socket: string | undefined,
  forwardedFor: string | undefined,
  trusted: (address: string) => boolean,
): string | undefined {
  if (!socket) return undefined;
  let client = plainAddress(socket);
  if (!trusted(client) || !forwardedFor) return client;
  const hops = forwardedFor
    .split(",")
    .map((h) => plainAddress(h))
    .filter((h) => h !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    // A hop that is not an address was not written by a proxy of ours: stop at the last real one.
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!trusted(hop)) return hop;
  }
  return client;
}
