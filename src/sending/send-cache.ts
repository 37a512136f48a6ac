import { sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import type { MailIdentity } from "./identity.js";
import { buildTemplate, type MessageTemplate } from "./template.js";

/** What a worker keeps per send: the message built once, and the send's start for the retry horizon. */
export interface SendContext {
  id: string;
  slug: string;
  startedAt: number;
  template: MessageTemplate;
}

export interface SendCache {
  get(sendId: string): Promise<SendContext>;
}

/** The last `limit` sends' contexts; a load that fails is forgotten, so the next batch tries again. */
export function sendCache(db: Db, identity: MailIdentity, limit = 8): SendCache {
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
    }>(
      db,
      // The send's own copy, the text approved for it; sends from before the copy mail the issue's.
      sql`select i.slug, coalesce(s.subject, i.subject) as subject, coalesce(s.html, i.html) as html,
             coalesce(s.text, i.text) as text, s.started_at, s.is_test
           from sends s join issues i on i.id = s.issue_id where s.id = ${sendId}`,
    );
    if (!row) throw new Error(`send ${sendId} is gone`);
    const template = await buildTemplate({
      identity,
      subject: row.subject,
      rendition: { html: row.html, text: row.text },
      test: row.is_test,
    });
    const startedAt = row.started_at ? new Date(row.started_at).getTime() : Date.now();
    return { id: sendId, slug: row.slug, startedAt, template };
  }
}
