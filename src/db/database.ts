import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "./schema.js";

/**
 * `Db` is the seam domain functions take (drizzle over either driver, or a transaction of it);
 * `Database` is what a process opens and closes, and hands `database.db` to the domain.
 */
/** Drizzle over either driver: postgres.js for DATABASE_URL, embedded PGlite otherwise. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: "postgres" | "pglite";
  /** The server's URL (postgres only), for work that needs a connection of its own. */
  url?: string;
  /** `query(this.db, statement)`: see `query` below. */
  query<T extends Record<string, unknown>>(statement: SQL): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * The one way to run raw SQL, on a database or inside a transaction: an array of plain rows from
 * either driver. Cast bigint/numeric results in SQL (`::int`, `::float8`): postgres.js returns int8
 * as a string.
 */
export async function query<T = Record<string, unknown>>(
  db: Pick<Db, "execute">,
  statement: SQL,
): Promise<T[]> {
  return rowsOf<T>(await db.execute(statement));
}

function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  if (result && typeof result === "object" && "rows" in result && Array.isArray(result.rows)) {
    return result.rows as T[];
  }
  throw new Error("unexpected raw query result shape");
}
