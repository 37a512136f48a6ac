import { sql } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { DigestError } from "../errors.js";
import { isUuid } from "../ids.js";

/**
 * SEND, as staff type it everywhere (status, pause, resume, cancel, retry): a send id, an issue
 * slug (that issue's latest send), or nothing / "latest" (the latest send of all).
 */
export async function resolveSend(database: Database, ref?: string): Promise<string> {
  const text = ref?.trim();
  if (text === undefined || text === "" || text === "latest") {
    const [row] = await database.query<{ id: string }>(
      sql`select id from sends order by created_at desc, id desc limit 1`,
    );
    if (!row) throw new DigestError("not_found", "there is no send yet (digest send ISSUE starts one)");
    return row.id;
  }
  if (isUuid(text)) {
    const [row] = await database.query<{ id: string }>(sql`select id from sends where id = ${text}`);
    if (!row) throw new DigestError("not_found", `no send ${text}`);
    return row.id;
  }
  if (text.includes("\0") || text.length > 200)
    throw new DigestError("invalid", "SEND is a send id, an issue slug such as vol-2-6, or nothing");
  const [row] = await database.query<{ id: string | null; issue: string }>(sql`
    select i.id as issue, s.id from issues i left join lateral
      (select id from sends where issue_id = i.id order by created_at desc, id desc limit 1) s on true
    where i.slug = ${text}`);
  if (!row)
    throw new DigestError(
      "not_found",
      `"${text}" is neither a send id nor a stored issue's slug (digest issues list shows both)`,
    );
  if (!row.id) throw new DigestError("not_found", `issue ${text} has no send yet`);
  return row.id;
}
