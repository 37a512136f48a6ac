import { Queue, type QueueOptions, type WorkerOptions } from "bullmq";
import { Redis } from "ioredis";

/**
 * The queue contract: where the web side, the CLI and the workers meet. Queue names, job payloads
 * (ids only: payloads are stored in clear text in Redis and re-read from Postgres by the worker),
 * job options, and how to open a connection or a queue. It imports no domain module, so every layer
 * may import it. Redis only dispatches work; losing it loses no state, because the reconciler
 * rebuilds jobs from rows.
 */
export const queueNames = {
  /** Confirmation, welcome, goodbye and unsubscribe-link mails. */
  transactional: "transactional",
  /** Batches of an issue's deliveries. */
  deliveries: "deliveries",
} as const;
export type QueueName = (typeof queueNames)[keyof typeof queueNames];

export type TransactionalKind = "confirm" | "welcome" | "goodbye" | "unsubscribe-link";
/** One transactional mail: the kind and the subscriber; the worker re-reads the row. */
export interface TransactionalJob {
  kind: TransactionalKind;
  subscriberId: string;
}

/**
 * One job of the deliveries queue: a range of delivery ids of one send, ids only. The worker claims
 * whatever in the range is still due, so a job run twice (or a stale one) sends nothing twice.
 */
export interface DeliveryBatchJob {
  sendId: string;
  /** Delivery ids fromId..toId inclusive: batch `n` covers n*size .. n*size+size-1. */
  fromId: number;
  toId: number;
  generation: number;
}

/** A scheduled send's wake-up call: the worker starts every send that is due. */
export interface SendDueJob {
  sendId: string;
  due: true;
}

export type DeliveriesJob = DeliveryBatchJob | SendDueJob;

/** Unique across databases (send ids are UUIDs) and across re-enqueues (generation). */
export function batchJobId(sendId: string, batch: number, generation: number): string {
  return `${sendId}:${batch}:${generation}`;
}

/** Redis stays bounded: finished jobs leave no trace, their outcome lives in Postgres. */
export const deliveryJobOptions = { removeOnComplete: true, removeOnFail: true, attempts: 3 } as const;

/** Retries with exponential backoff: 8 attempts span about 20 minutes of an SMTP outage. */
export const transactionalJobOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 5_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

export interface QueueSettings {
  redisUrl: string;
  /** QUEUE_PREFIX; wrapped in a Redis Cluster hash tag so every key of a queue lands in one slot. */
  queuePrefix: string;
}

export const defaultRedisUrl = "redis://127.0.0.1:6379";

/** The queue settings of a loaded config, REDIS_URL defaulted. */
export function queueSettingsOf(settings: { redisUrl?: string; queuePrefix: string }): QueueSettings {
  return { redisUrl: settings.redisUrl ?? defaultRedisUrl, queuePrefix: settings.queuePrefix };
}

/** BullMQ's key prefix: `{digest}` keeps all keys in one hash slot, as Redis Cluster requires. */
export function bullPrefix(queuePrefix: string): string {
  return `{${queuePrefix}}`;
}

/**
 * A Redis connection as BullMQ wants it: workers need maxRetriesPerRequest null so a blocking call
 * waits out a Redis restart instead of failing the job; producers fail fast so an enqueue that cannot
 * reach Redis surfaces as an error to the caller instead of hanging a web request.
 */
export function redisConnection(settings: QueueSettings, role: "worker" | "producer"): Redis {
  return new Redis(settings.redisUrl, {
    maxRetriesPerRequest: role === "worker" ? null : 3,
    enableOfflineQueue: role === "worker",
    lazyConnect: false,
  });
}

/**
 * Resolves true once the connection is ready, or false after `ms`. A producer connection does not
 * queue commands while it connects (enableOfflineQueue: false), so a server that answers requests
 * before its first connection is up would fail them (a webhook's replay check got "Stream isn't
 * writeable" in the few milliseconds after start).
 */
export function redisReady(connection: Redis, ms: number): Promise<boolean> {
  if (connection.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      connection.off("ready", onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    connection.on("ready", onReady);
  });
}

function queueOptions(settings: QueueSettings, connection: Redis): QueueOptions {
  return { connection, prefix: bullPrefix(settings.queuePrefix) };
}

/** The options every BullMQ Worker of ours gets besides its processor (all Workers are built in workers/). */
export function workerOptions(
  queuePrefix: string,
  connection: Redis,
  extra: Omit<WorkerOptions, "connection" | "prefix"> = {},
): WorkerOptions {
  return { ...extra, connection, prefix: bullPrefix(queuePrefix) };
}

export function openQueue<T>(name: QueueName, settings: QueueSettings, connection: Redis): Queue<T> {
  return new Queue<T>(name, queueOptions(settings, connection));
}

/**
 * A producer connection with the queues a command enqueues to: `close()` closes both queues and
 * the connection. Errors on the connection are handed to `onError` (default: ignored, because the
 * enqueue itself fails and says so).
 */
export interface Producer {
  connection: Redis;
  transactional: Queue<TransactionalJob>;
  deliveries: Queue<DeliveriesJob>;
  close(): Promise<void>;
}

export function openProducer(settings: QueueSettings, onError: (error: Error) => void = () => {}): Producer {
  const connection = redisConnection(settings, "producer");
  connection.on("error", onError);
  const transactional = openQueue<TransactionalJob>(queueNames.transactional, settings, connection);
  const deliveries = openQueue<DeliveriesJob>(queueNames.deliveries, settings, connection);
  return {
    connection,
    transactional,
    deliveries,
    async close() {
      await Promise.all([transactional.close(), deliveries.close()]).catch(() => {});
      connection.disconnect();
    },
  };
}
