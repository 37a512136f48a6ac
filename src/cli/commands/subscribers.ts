import type { Command } from "commander";
import type { Database } from "../../db/database.js";
import { action } from "../action.js";

/** Opens the configured database for one command and closes it afterwards. */
async function withDatabase<T>(fn: (database: Database) => Promise<T>): Promise<T> {
  const { openConfiguredDatabase } = await import("../context.js");
  const database = await openConfiguredDatabase();
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

const cli = () => import("../../subscribers/cli.js");
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

export function register(program: Command): void {
  const subscribers = program
    .command("subscribers")
    .description("add, import, export, erase and unsuppress readers");

  subscribers
    .command("add <email>")
    .description("add a reader: pending with a confirmation mail, or active at once with --confirmed")
    .option("--name <name>", "the reader's name")
    .option("--confirmed", "staff vouch for the address: active now, no confirmation mail")
    .action(
      action(async (email: string, options: { name?: string; confirmed?: boolean }) => {
        const { addCommand } = await cli();
        print(await withDatabase((db) => addCommand(db, email, options)));
      }),
    );

  subscribers
    .command("import <file>")
    .description('import a CSV with an "email" and an optional "name" column (new rows become active)')
    .option("--pending", "new rows stay pending and get a confirmation mail")
    .action(
      action(async (file: string, options: { pending?: boolean }) => {
        const { importCommand } = await cli();
        const report = await withDatabase((db) => importCommand(db, file, options));
        for (const e of report.errors) process.stderr.write(`${file}:${e.line}: ${e.message}\n`);
        print({ imported: report.imported, skipped: report.skipped, invalid: report.invalidRows });
        return report.invalidRows > 0 ? 1 : 0;
      }),
    );

  subscribers
    .command("export")
    .description("write every subscriber as CSV (email, name, status, consent...)")
    .option("--out <file>", "write to this file instead of stdout")
    .action(
      action(async (options: { out?: string }) => {
        const { exportCommand } = await cli();
        await withDatabase((db) => exportCommand(db, options.out));
      }),
    );

  subscribers
    .command("remove <email>")
    .description("erase the person's data (GDPR); only a hash of the address stays, suppressed")
    .action(
      action(async (email: string) => {
        const { removeCommand } = await cli();
        print(await withDatabase((db) => removeCommand(db, email)));
      }),
    );

  subscribers
    .command("unsuppress <email>")
    .description("lift a bounce, complaint or erasure suppression")
    .action(
      action(async (email: string) => {
        const { unsuppressCommand } = await cli();
        print(await withDatabase((db) => unsuppressCommand(db, email)));
      }),
    );
}
