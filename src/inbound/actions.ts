import { and, eq } from "drizzle-orm";
import { recordBounce } from "../bounces/record.js";
import type { Db } from "../db/database.js";
import { deliveries } from "../db/schema.js";
import { findSubscriber } from "../subscribers/admin.js";
import { subscribe, unsubscribe } from "../subscribers/lifecycle.js";
import type { Notify } from "../subscribers/notify.js";
import type { InboundActions } from "./handle.js";

/**
 * The inbound server's actions, wired to the subscription and bounce policy modules. A goodbye mail
 * to a robot is a reply like any other, so `notify: false` drops it (loop safety).
 */
export function inboundActions(deps: {
  db: Db;
  notify: Notify;
  secret: string;
  softBounceLimit: number;
}): InboundActions {
  const quiet: Notify = async () => {};
  return {
    async subscribe(email, meta) {
      await subscribe({ db: deps.db, notify: deps.notify }, { email, source: "email", ip: meta.ip });
    },
    async unsubscribe(target, meta) {
      const notify = meta.notify ? deps.notify : quiet;
      const id =
        "subscriberId" in target ? target.subscriberId : (await findSubscriber(deps.db, target.email))?.id;
      if (id) await unsubscribe({ db: deps.db, notify, secret: deps.secret }, id);
    },
    async recordBounce(bounce, ref) {
      if (ref.sendId) {
        const [row] = await deps.db
          .select({ id: deliveries.id })
          .from(deliveries)
          .where(and(eq(deliveries.id, ref.deliveryId), eq(deliveries.sendId, ref.sendId)));
        // A Message-ID of our shape that names no delivery of that send is forged or mangled.
        if (!row) return;
      }
      await recordBounce(
        { db: deps.db, softBounceLimit: deps.softBounceLimit },
        { bounce, deliveryId: ref.deliveryId, source: ref.source },
      );
    },
  };
}
