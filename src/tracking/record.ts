import type { Db } from "../db/database.js";
import { type TrackingKind, trackingEvents } from "../db/schema.js";
import { classifyRequest } from "./classify.js";
import type { ResolvedToken, TrackingLinks } from "./resolve.js";

/**
 * Recording a tracking request: one row in tracking_events, written after the reader has their
 * answer. The request is classed (classify.ts) with the delivery's time, then queued; rows queued
 * while an insert is in flight go together in the next one (one insert per event when quiet, a
 * few hundred per insert under a burst). A slow or failing database loses events, never readers:
 * the queue is bounded, and what does not fit is counted and dropped.
 */
export interface TrackingRequestFacts {
  method: string;
  ip: string | null;
  userAgent: string | null;
  at: Date;
}

export interface EventRecorder {
  record(resolved: ResolvedToken, kind: TrackingKind, request: TrackingRequestFacts): void;
  /** Resolves once every event recorded so far is written (or given up on). */
  settled(): Promise<void>;
  /** Events dropped because the queue was full or their insert failed. */
  lost(): number;
}

type EventRow = typeof trackingEvents.$inferInsert;

const maxUserAgent = 512;
/** Rows per insert: 11 parameters each stays far below Postgres's 65,535. */
const maxBatch = 500;

export function eventRecorder(
  db: Db,
  links: TrackingLinks,
  log: (message: string, error: unknown) => void,
  maxQueued = 10_000,
): EventRecorder {
  let queue: EventRow[] = [];
  let writing: Promise<void> | undefined;
  const pending = new Set<Promise<void>>();
  let lost = 0;

  function enqueue(row: EventRow) {
    if (queue.length >= maxQueued) {
      lost++;
      return;
    }
    queue.push(row);
    writing ??= drain().finally(() => {
      writing = undefined;
    });
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        await db.insert(trackingEvents).values(batch);
      } catch (error) {
        lost += batch.length;
        log("tracking events not recorded", error);
      }
    }
  }

  async function classifyAndQueue(
    resolved: ResolvedToken,
    kind: TrackingKind,
    request: TrackingRequestFacts,
  ) {
    const delivery = await links.delivery(resolved.deliveryId);
    // A reader who turned tracking off is answered like anyone, and nothing of theirs is kept.
    if (!delivery?.tracking) return;
    const verdict = classifyRequest({
      kind,
      method: request.method,
      ip: request.ip,
      userAgent: request.userAgent,
      at: request.at,
      linkNo: resolved.linkNo,
      canary: resolved.canary,
      deliveredAt: delivery.deliveredAt,
    });
    enqueue({
      sendId: resolved.sendId,
      deliveryId: resolved.deliveryId,
      subscriberId: delivery.subscriberId,
      kind,
      linkNo: resolved.linkNo,
      method: request.method.slice(0, 16),
      ip: request.ip,
      // Postgres refuses a NUL in text, and one bad row would lose the whole batch.
      userAgent:
        request.userAgent === null ? null : request.userAgent.replace(/\0/g, "").slice(0, maxUserAgent),
      at: request.at,
      class: verdict.class,
      rule: verdict.rule,
    });
  }

  return {
    record(resolved, kind, request) {
      const task = classifyAndQueue(resolved, kind, request).catch((error) => {
        lost++;
        log("tracking event not recorded", error);
      });
      pending.add(task);
      void task.finally(() => pending.delete(task));
    },
    async settled() {
      while (pending.size > 0 || writing) {
        await Promise.all([...pending]);
        await writing;
      }
    },
    lost: () => lost,
  };
}
