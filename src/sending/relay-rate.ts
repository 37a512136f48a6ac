import type { Redis } from "ioredis";
import { bullPrefix } from "../queues.js";
import { afterClean, afterThrottle, type LoweredRate, rateInForce } from "./throttle-policy.js";

/**
 * Where the lowered relay rate lives (the policy is throttle-policy.ts): one hash in Redis, shared
 * by every worker and read by rate.ts's token bucket on each take. It is dispatch state, not a
 * record: when it is lost (Redis flushed, or 15 minutes without a change) the rate starts at
 * SEND_RATE again and the relay's next throttled answer lowers it once more.
 */
export const relayRateKey = (queuePrefix: string) => `${bullPrefix(queuePrefix)}:relay-rate`;

const ttlMs = 15 * 60 * 1000;

/** What `digest status` and the console show: the rate in force and why. */
export interface RateLimit {
  /** Messages per second all workers share now; null when Redis could not be asked. */
  inForce: number | null;
  /** SEND_RATE. */
  configured: number;
  /** Why the rate in force is below SEND_RATE (the relay's answer); null at SEND_RATE. */
  reason: string | null;
}

// Accepted answers are counted in tenth-of-a-second buckets (by the Redis clock): the last ten
// are what the relay took in the last second.
const acceptedScript = `
local t = redis.call('TIME')
local bucket = KEYS[1] .. ':ok:' .. math.floor((tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) / 100)
redis.call('INCRBY', bucket, ARGV[1])
redis.call('PEXPIRE', bucket, 2000)
return 1
`;

const readScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'rate', 'reason', 'changedAt', 'throttledAt', 'version')
local accepted = 0
local current = math.floor(now / 100)
for b = current - 9, current do accepted = accepted + (tonumber(redis.call('GET', KEYS[1] .. ':ok:' .. b)) or 0) end
return {t[1], t[2], s[1], s[2], s[3], s[4], s[5], accepted}
`;

// Writes only when nobody moved the rate since we read it: two workers throttled at once lower it
// once, the second one re-reads and finds the first one's decrease inside its hold.
const writeScript = `
if (redis.call('HGET', KEYS[1], 'version') or '0') ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('DEL', KEYS[1]) return 1 end
redis.call('HSET', KEYS[1], 'version', tostring(tonumber(ARGV[1]) + 1), 'rate', ARGV[3], 'reason', ARGV[4],
  'changedAt', ARGV[5], 'throttledAt', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

interface Read {
  state: LoweredRate | null;
  now: number;
  version: string;
  acceptedLastSecond: number;
}

export interface RelayRate {
  /** The relay said it is over its rate (`answer` as it came). */
  throttled(answer: string): Promise<void>;
  /** `accepted` messages were accepted and no answer was throttled. */
  clean(accepted: number): Promise<void>;
  view(): Promise<RateLimit>;
}

export function relayRate(redis: Redis, queuePrefix: string, configured: number): RelayRate {
  const key = relayRateKey(queuePrefix);
  // Set by every read: while SEND_RATE is in force, clean answers ask Redis at most once a second
  // (another worker may have lowered the rate meanwhile).
  let lowered = true;
  let readAt = 0;

  async function read(): Promise<Read> {
    const r = (await redis.eval(readScript, 1, key)) as (string | null)[];
    const now = Number(r[0]) * 1000 + Math.floor(Number(r[1]) / 1000);
    const [rate, reason, changedAt, throttledAt, version, accepted] = r.slice(2);
    const state =
      rate == null
        ? null
        : {
            rate: Number(rate),
            reason: reason ?? "",
            changedAt: Number(changedAt),
            throttledAt: Number(throttledAt),
          };
    lowered = state !== null;
    readAt = Date.now();
    return { state, now, version: version ?? "0", acceptedLastSecond: Number(accepted ?? 0) };
  }

  async function write(version: string, next: LoweredRate | null): Promise<boolean> {
    const fields = next
      ? [String(next.rate), next.reason, String(next.changedAt), String(next.throttledAt)]
      : ["", "", "", ""];
    return (await redis.eval(writeScript, 1, key, version, ttlMs, ...fields)) === 1;
  }

  /** Read, apply the policy, write if it changed; again when another worker wrote in between. */
  async function update(step: (read: Read) => LoweredRate | null) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await read();
      const { state, version } = current;
      const next = step(current);
      if (JSON.stringify(next) === JSON.stringify(state)) return;
      if (await write(version, next)) {
        lowered = next !== null;
        return;
      }
    }
  }

  return {
    throttled: (answer) =>
      update(({ state, now, acceptedLastSecond }) =>
        afterThrottle(state, configured, now, answer, acceptedLastSecond),
      ),
    async clean(accepted) {
      if (accepted > 0) await redis.eval(acceptedScript, 1, key, accepted);
      if (lowered || Date.now() - readAt >= 1000)
        await update(({ state, now }) => afterClean(state, configured, now));
    },
    async view() {
      const { state } = await read();
      return { inForce: rateInForce(state, configured), configured, reason: state?.reason ?? null };
    },
  };
}

/** The rate for a status page: a Redis that cannot answer makes the rate unknown, never the page fail. */
export async function rateLimitOrUnknown(rate: RelayRate, configured: number): Promise<RateLimit> {
  try {
    return await rate.view();
  } catch (error) {
    const why = (error as Error).message;
    return { inForce: null, configured, reason: `unknown: Redis did not answer (${why})` };
  }
}
