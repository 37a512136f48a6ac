import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("migrate")
    .description("apply the database migrations (DATABASE_URL, else embedded PGlite in ./.data/pg)")
    .action(
      action(async () => {
        const { openConfiguredDatabase } = await import("../context.js");
        const { migrateDatabase } = await import("../../db/migrate.js");
        const database = await openConfiguredDatabase();
        try {
          await migrateDatabase(database);
        } finally {
          await database.close();
        }
        process.stdout.write(`migrations applied (${database.kind})\n`);
      }),
    );
}
