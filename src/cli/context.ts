import { loadConfig } from "../config.js";
import { databaseTarget, openDatabase } from "../db/connect.js";
import type { Database } from "../db/database.js";
import { loadNewsletter, type Newsletter } from "../newsletter.js";

/** The database the settings name: DATABASE_URL, else embedded PGlite in ./.data/pg. */
export async function openConfiguredDatabase(): Promise<Database> {
  const { databaseUrl } = loadConfig(["databaseUrl"]);
  return openDatabase(databaseTarget(databaseUrl));
}

/** Opens the configured database for one command and closes it afterwards. */
export async function withDatabase<T>(fn: (database: Database) => Promise<T>): Promise<T> {
  const database = await openConfiguredDatabase();
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

/** `--newsletter FILE`, else $NEWSLETTER_FILE, else ./newsletter.yaml. */
export function newsletterFor(option: string | undefined): Newsletter {
  return loadNewsletter(option ?? loadConfig(["newsletterFile"]).newsletterFile);
}
