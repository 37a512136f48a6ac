import { Redis } from "ioredis";
import { queueSettingsOf } from "../queues.js";
import { type RateLimit, rateLimitOrUnknown, relayRate } from "../sending/relay-rate.js";

/**
 * The shared rate for `digest status`: asked of Redis once per status, without retrying, so a
 * Redis that is down leaves the rest of the status (read from Postgres) standing; the rate then
 * shows as unknown and says why.
 */
export function relayRateView(settings: { redisUrl?: string; queuePrefix: string; sendRate: number }): {
  rateLimit: () => Promise<RateLimit>;
  close(): void;
} {
  const { redisUrl, queuePrefix } = queueSettingsOf(settings);
  const connection = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    connectTimeout: 3_000,
  });
  connection.on("error", () => {});
  const rate = relayRate(connection, queuePrefix, settings.sendRate);
  return {
    async rateLimit() {
      if (connection.status === "wait") await connection.connect().catch(() => {});
      return rateLimitOrUnknown(rate, settings.sendRate);
    },
    close: () => connection.disconnect(),
  };
}
