import type { Db } from "../src/db/database.js";
import { reclassifySend, sendsWithEventsAfter } from "../src/tracking/reclassify.js";
import { purgeExpiredEvents } from "../src/tracking/retention.js";

export interface ReadershipUpkeep {
  /** One pass now (the timer's work): reclassify sends with new events, then purge expired ones. */
  runNow(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Readership upkeep on a timer beside the reconciler: the delivery rules run over sends with new
 * events (so stored verdicts, the console's plot and /metrics agree with `digest report`), and
 * events past TRACKING_RETENTION_DAYS are purged once their send's figures are kept. Every pass is
 * idempotent, so several workers running it at once only repeat work.
 */
export function startReadershipUpkeep(
  deps: { db: Db; log: (msg: string, fields?: Record<string, unknown>) => void; now?: () => Date },
  settings: { trackingRetentionDays: number; intervalSeconds: number },
): ReadershipUpkeep {
  // The highest event id already reclassified: a pass only looks at sends with newer events. It
  // starts at 0, so a (re)started worker passes over every send with events once.
  let seen = 0;
  let running: Promise<void> | undefined;
  const pass = async () => {
    const fresh = await sendsWithEventsAfter(deps.db, seen);
    // The first pass reads every delivery: this worker may bring rules or data newer than the
    // verdicts stored; later passes read only deliveries a delivery rule can change.
    const everything = seen === 0;
    let changed = 0;
    for (const sendId of fresh.sends) changed += await reclassifySend(deps.db, sendId, { everything });
    seen = fresh.lastId;
    if (changed > 0) deps.log("tracking events reclassified", { sends: fresh.sends.length, changed });
    const purged = await purgeExpiredEvents(deps.db, {
      retentionDays: settings.trackingRetentionDays,
      now: deps.now?.() ?? new Date(),
    });
    if (purged.sends > 0) deps.log("tracking events past retention purged, figures kept", { ...purged });
  };
  const runNow = () => {
    running ??= pass()
      .catch((err: Error) => deps.log("readership upkeep failed", { error: err.message }))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  void runNow();
  const timer = setInterval(runNow, settings.intervalSeconds * 1000);
  timer.unref();
  return {
    runNow,
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
