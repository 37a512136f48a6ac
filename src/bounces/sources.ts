import { sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { query } from "../db/database.js";

/**
 * How many bounces and complaints of one send came from where, and why (for `digest status` and the
 * console). Each delivery's counted report only: a copy that came again, by the same channel or
 * another, is not recorded, and a soft bounce followed by a hard one shows as the hard one.
 */
export interface BounceSourceCount {
  /** smtp | dsn | arf | cli | webhook | mailbox (bounces.source). */
  source: string;
  /** The relay, for webhook reports (ses, postmark, mailgun, sendgrid); null otherwise. */
  provider: string | null;
  /** What staff read: "inbound mail (VERP)", "webhook: ses", "bounce mailbox", ... */
  label: string;
  type: string;
  reason: string | null;
  count: number;
}

export async function bounceSources(db: Db, sendId: string): Promise<BounceSourceCount[]> {
  const rows = await query<Omit<BounceSourceCount, "label">>(
    db,
    sql`select b.source, b.details->>'provider' as provider, b.type, b.reason, count(*)::int as count
      from bounces b join deliveries d on d.id = b.delivery_id
      where d.send_id = ${sendId} and b.counted
      group by 1, 2, 3, 4 order by count(*) desc, 1, 2, 3, 4`,
  );
  return rows.map((r) => ({ ...r, label: sourceLabel(r.source, r.provider) }));
}

export function sourceLabel(source: string, provider: string | null): string {
  switch (source) {
    case "smtp":
      return "the server's answer while sending";
    case "dsn":
    case "arf":
      return `inbound mail (VERP${source === "arf" ? ", complaint" : ""})`;
    case "webhook":
      return `webhook: ${provider ?? "provider"}`;
    case "mailbox":
      return "bounce mailbox";
    case "cli":
      return "digest bounce --apply";
    default:
      return source;
  }
}
