import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "./schema.js";

/** Drizzle over either driver: postgres.js for DATABASE_URL, embedded PGlite otherwise. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: "postgres" | "pglite";
  /** The server's URL (postgres only), for work that needs a connection of its own. */
  url?: string;
  /**
   * Raw SQL through one door so both drivers return the same shape: an array of plain rows.
   * Cast bigint/numeric results in SQL (`::int`, `::float8`): postgres.js returns int8 as a string.
   */
  query<T extends Record<string, unknown>>(statement: SQL): Promise<T[]>;
  close(): Promise<void>;
}

export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  if (result && typeof result === "object" && "rows" in result && Array.isArray(result.rows)) {
    return result.rows as T[];
  }
  throw new Error("unexpected raw query result shape");
}
