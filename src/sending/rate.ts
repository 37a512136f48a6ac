import type { Redis } from "ioredis";
import { bullPrefix } from "../queues.js";
import { relayRateKey } from "./relay-rate.js";

/**
 * SEND_RATE is messages per second across every worker on every machine. BullMQ's limiter counts
 * jobs, and a job carries hundreds of messages, so the workers share a token bucket in Redis
 * instead: one Lua call takes up to `want` tokens atomically, refilled at `rate` per second by the
 * Redis server's clock (so machines with skewed clocks still agree), with a tenth of a second of
 * burst: a relay that counts messages in any one second then never sees more than 1.1 × the rate.
 * The rate is SEND_RATE, or lower while the relay throttles us (relay-rate.ts keeps that in the
 * second key). An empty bucket starts a send: a relay counting per second sees the rate in force
 * from the first message, not a second's worth at once.
 */
const script = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local lowered = tonumber(redis.call('HGET', KEYS[2], 'rate'))
if lowered and lowered < rate then rate = lowered end
local burst = math.max(1, rate / 10)
local want = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or 0
local ts = tonumber(state[2]) or now
if now > ts then tokens = tokens + (now - ts) * rate / 1000 end
tokens = math.min(burst, tokens)
local got = math.min(want, math.floor(tokens))
tokens = tokens - got
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(math.max(now, ts)))
redis.call('PEXPIRE', KEYS[1], 60000)
local wait = 0
if got < want then wait = math.ceil((math.min(want - got, burst) - tokens) * 1000 / rate) end
return {got, wait, tostring(rate)}
`;

export interface RateLimiter {
  /** Takes up to `want` tokens; resolves with how many it got (at least 1), waiting if needed. */
  take(want: number): Promise<number>;
  /** The rate in force at the last take as a share of SEND_RATE (1 until the relay throttles). */
  share?(): number;
}

export function sharedRateLimiter(redis: Redis, queuePrefix: string, perSecond: number): RateLimiter {
  const key = `${bullPrefix(queuePrefix)}:send-rate`;
  const relayKey = relayRateKey(queuePrefix);
  let inForce = perSecond;
  return {
    share: () => inForce / perSecond,
    async take(want) {
      for (;;) {
        const [got, wait, rate] = (await redis.eval(script, 2, key, relayKey, perSecond, want)) as [
          number,
          number,
          string,
        ];
        inForce = Number(rate);
        if (got > 0) return got;
        await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(1, wait))));
      }
    },
  };
}
