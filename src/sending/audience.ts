import { sql } from "drizzle-orm";
import type { Database } from "../db/database.js";

/**
 * How many readers a real send started now would plan: active and not suppressed, the same
 * predicate as `planDeliveries`. This is the number staff confirm before a send.
 */
export async function countAudience(database: Database): Promise<number> {
  const [row] = await database.query<{ n: number }>(sql`
    select count(*)::int as n from subscribers s
    where s.status = 'active'
      and not exists (
        select 1 from suppressions x
        where x.address_hash = encode(sha256(convert_to(lower(s.email), 'UTF8')), 'hex'))`);
  return row?.n ?? 0;
}

/** "1 reader", "1,002 readers". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}
