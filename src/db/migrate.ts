import { migrationsFolder } from "../paths.js";
import type { Database } from "./database.js";

/**
 * Applies the committed migrations. On a server, a session advisory lock on a connection of its own
 * makes concurrent starts (several workers at once) take turns instead of racing on the same DDL.
 */
export async function migrateDatabase(database: Database): Promise<void> {
  if (database.kind === "pglite" || !database.url) {
    const { migrate } = await import("drizzle-orm/pglite/migrator");
    // biome-ignore lint/suspicious/noExplicitAny: the migrator is typed per driver; the Db is the same object
    await migrate(database.db as any, { migrationsFolder });
    return;
  }
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const { migrate } = await import("drizzle-orm/postgres-js/migrator");
  const client = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(727274)`;
    await migrate(drizzle({ client }), { migrationsFolder });
  } finally {
    await client.end({ timeout: 5 });
  }
}
