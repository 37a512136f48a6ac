import { sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { DigestError } from "../errors.js";
import { renditionHashSql } from "../issues/approval.js";
import { trackRendition } from "../tracking/links.js";
import { saveSendLinks } from "../tracking/send-links.js";
import { type SendKey, sendKey, trackingKey } from "../tracking/token.js";
import type { MailIdentity } from "./identity.js";
import { buildTemplate, type MessageTemplate } from "./template.js";

/** What a worker keeps per send: the message built once, and the send's start for the retry horizon. */
export interface SendContext {
  id: string;
  slug: string;
  startedAt: number;
  /** The message with plain links and no pixel: for every reader while tracking is off. */
  template: MessageTemplate;
  /**
   * With TRACK_CLICKS or TRACK_OPENS: the same message with its tracking slots, for readers who
   * have not turned tracking off, and the send's key their tokens are signed with.
   */
  tracked?: { template: MessageTemplate; key: SendKey };
}

/**
 * The send's copy is not the text its admin approved (its fingerprint differs): nothing may be
 * mailed from it. Only a write around the approval can cause it; the send pauses with this reason.
 */
export class UnapprovedCopyError extends DigestError {
  override readonly name = "UnapprovedCopyError";
  constructor(readonly sendId: string) {
    super(
      "conflict",
      `the text stored for send ${sendId} is not the text an admin approved for it (its fingerprint ` +
        "differs), so nothing more is mailed; cancel it and start a new send of the issue",
    );
  }
}

/** TRACK_CLICKS, TRACK_OPENS and the SECRET their tokens are signed with. */
export interface SendTracking {
  clicks: boolean;
  opens: boolean;
  secret: string;
}

export interface SendCache {
  get(sendId: string): Promise<SendContext>;
}

/** The last `limit` sends' contexts; a load that fails is forgotten, so the next batch tries again. */
export function sendCache(db: Db, identity: MailIdentity, limit = 8, tracking?: SendTracking): SendCache {
  const key = tracking ? trackingKey(tracking.secret) : undefined;
  const cache = new Map<string, Promise<SendContext>>();
  return {
    get(sendId) {
      let entry = cache.get(sendId);
      if (!entry) {
        entry = load(sendId);
        entry.catch(() => cache.delete(sendId));
        cache.set(sendId, entry);
        if (cache.size > limit) cache.delete(cache.keys().next().value as string);
      }
      return entry;
    },
  };

  async function load(sendId: string): Promise<SendContext> {
    const [row] = await query<{
      slug: string;
      subject: string;
      html: string;
      text: string;
      started_at: string | Date | null;
      is_test: boolean;
      approved: boolean;
    }>(
      db,
      // The send's own copy, the text approved for it; sends from before the copy mail the issue's.
      sql`select i.slug, c.subject, c.html, c.text, s.started_at, s.is_test,
             coalesce(s.approved_rendition = ${renditionHashSql(sql`c.subject`, sql`c.html`, sql`c.text`)}, false)
               as approved
           from sends s join issues i on i.id = s.issue_id,
             lateral (select coalesce(s.subject, i.subject) as subject, coalesce(s.html, i.html) as html,
                             coalesce(s.text, i.text) as text) c
           where s.id = ${sendId}`,
    );
    if (!row) throw new Error(`send ${sendId} is gone`);
    if (!row.approved) throw new UnapprovedCopyError(sendId);
    const rendition = { html: row.html, text: row.text };
    // One Date for both variants: a reader's message must not differ by more than their links.
    const date = new Date();
    const template = await buildTemplate({
      identity,
      subject: row.subject,
      rendition,
      test: row.is_test,
      date,
    });
    const startedAt = row.started_at ? new Date(row.started_at).getTime() : Date.now();
    const context: SendContext = { id: sendId, slug: row.slug, startedAt, template };
    if (key && tracking && (tracking.clicks || tracking.opens)) {
      const marked = trackRendition(rendition, { ...tracking, publicUrl: identity.publicUrl });
      await saveSendLinks(db, sendId, marked.links);
      context.tracked = {
        template: await buildTemplate({
          identity,
          subject: row.subject,
          rendition: marked.rendition,
          test: row.is_test,
          date,
          tracked: true,
        }),
        key: sendKey(key, sendId),
      };
    }
    return context;
  }
}
