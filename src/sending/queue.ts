import { Queue, type QueueOptions } from "bullmq";
import { Redis } from "ioredis";

/**
 * Where the web side and the workers meet: queue names, job payloads (ids only: payloads are stored
 * in clear text in Redis and re-read from Postgres by the worker), and the Redis connection. Redis
 * only dispatches work; losing it loses no state, because the reconciler rebuilds jobs from rows.
 */
export const queueNames = {
  /** Confirmation, welcome, goodbye and unsubscribe-link mails. */
  transactional: "transactional",
  /** Batches of an issue's deliveries. */
  deliveries: "deliveries",
} as const;
export type QueueName = (typeof queueNames)[keyof typeof queueNames];

export type TransactionalKind = "confirm" | "welcome" | "goodbye" | "unsubscribe-link";
export interface TransactionalJob {
  kind: TransactionalKind;
  subscriberId: string;
}

export interface QueueSettings {
  redisUrl: string;
  /** QUEUE_PREFIX; wrapped in a Redis Cluster hash tag so every key of a queue lands in one slot. */
  queuePrefix: string;
}

export const defaultRedisUrl = "redis://127.0.0.1:6379";

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

export function queueOptions(settings: QueueSettings, connection: Redis): QueueOptions {
  return { connection, prefix: bullPrefix(settings.queuePrefix) };
}

export function openQueue<T>(name: QueueName, settings: QueueSettings, connection: Redis): Queue<T> {
  return new Queue<T>(name, queueOptions(settings, connection));
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
