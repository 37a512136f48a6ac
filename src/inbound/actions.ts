import { type ApplyReportDeps, applyReport } from "../bounces/apply.js";
import type { Language } from "../i18n/catalogue.js";
import { mailLanguage } from "../i18n/choose.js";
import { findSubscriber } from "../subscribers/admin.js";
import { subscribe, unsubscribe } from "../subscribers/lifecycle.js";
import { type Notify, unsubscribeLinkRequest } from "../subscribers/notify.js";
import type { InboundActions } from "./handle.js";

/**
 * The inbound server's actions, wired to the subscription and bounce policy modules. A goodbye mail
 * to a robot is a reply like any other, so `notify: false` drops it (loop safety).
 */
export function inboundActions(
  deps: ApplyReportDeps & { notify: Notify; languages?: readonly [Language, ...Language[]] },
): InboundActions {
  const quiet: Notify = async () => {};
  return {
    async subscribe(email, meta) {
      const language = mailLanguage(deps.languages ?? ["en"], meta.language ?? {});
      await subscribe(
        { db: deps.db, notify: deps.notify },
        { email, source: "email", ip: meta.ip, language },
      );
    },
    async unsubscribe(target, meta) {
      const notify = meta.notify ? deps.notify : quiet;
      await unsubscribe({ db: deps.db, notify, secret: deps.secret }, target.subscriberId);
    },
    async mailUnsubscribeLink(email) {
      // Only a reader who gets our mail is sent anything: a stranger's address gets no mail from
      // us (that would make this a way to mail anyone), and the sender cannot tell the difference.
      const reader = await findSubscriber(deps.db, email);
      if (reader?.status !== "active") return;
      await deps.notify([unsubscribeLinkRequest(reader.id, new Date())]);
    },
    applyReport(bounce, proofs, source, reportId) {
      return applyReport(deps, { bounce, proofs, source, reportId });
    },
  };
}
