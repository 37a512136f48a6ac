import type { Command } from "commander";
import { action } from "../action.js";

/** Loaded when a command runs: it brings in the database drivers. */
const context = () => import("../context.js");

const cli = () => import("../subscribers-command.js");
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

export function register(program: Command): void {
  const subscribers = program
    .command("subscribers")
    .description("look up, add, import, export, unsubscribe, erase and unsuppress readers");

  subscribers
    .command("list")
    .description("readers, oldest first: filter by status, search part of an address or name")
    .option("--status <status>", "pending, active, unsubscribed, bounced or complained")
    .option("--search <text>", "part of an address or name")
    .option("--limit <n>", "how many to show (1 to 500)", "50")
    .option("--json", "print JSON")
    .action(
      action(async (options: { status?: string; search?: string; limit?: string; json?: boolean }) => {
        const { listCommand } = await cli();
        process.stdout.write(await (await context()).withDatabase((db) => listCommand(db, options)));
      }),
    );

  subscribers
    .command("count")
    .description("how many readers in each status")
    .option("--json", "print JSON")
    .action(
      action(async (options: { json?: boolean }) => {
        const { countCommand } = await cli();
        const counts = await (await context()).withDatabase((db) => countCommand(db));
        if (options.json) return print(counts);
        for (const [status, n] of Object.entries(counts)) process.stdout.write(`${status}\t${n}\n`);
      }),
    );

  subscribers
    .command("add <email>")
    .description("add a reader: pending with a confirmation mail, or active at once with --confirmed")
    .option("--name <name>", "the reader's name")
    .option("--confirmed", "staff vouch for the address: active now, no confirmation mail")
    .action(
      action(async (email: string, options: { name?: string; confirmed?: boolean }) => {
        const { addCommand } = await cli();
        print(await (await context()).withDatabase((db) => addCommand(db, email, options)));
      }),
    );

  subscribers
    .command("import <file>")
    .description(
      "import a CSV (comma, semicolon or tab; email or Email Address; name or First Name + Last Name). " +
        "The whole file is checked first: one bad row and nothing is imported",
    )
    .option("--pending", "new rows stay pending and get a confirmation mail")
    .action(
      action(async (file: string, options: { pending?: boolean }) => {
        const { importCommand } = await cli();
        const report = await (await context()).withDatabase((db) => importCommand(db, file, options));
        for (const e of report.errors)
          process.stderr.write(`${file}:${e.line}: ${JSON.stringify(e.value.slice(0, 100))}: ${e.message}\n`);
        if (report.invalidRows > report.errors.length)
          process.stderr.write(`... and ${report.invalidRows - report.errors.length} more bad rows\n`);
        if (report.invalidRows > 0) {
          process.stderr.write(
            `nothing imported: ${report.invalidRows} bad row${report.invalidRows === 1 ? "" : "s"}; fix ${
              report.invalidRows === 1 ? "it" : "them"
            } and import the file again\n`,
          );
        }
        print({ imported: report.imported, skipped: report.skipped, invalid: report.invalidRows });
        return report.invalidRows > 0 ? 2 : 0;
      }),
    );

  subscribers
    .command("export")
    .description("write every subscriber as CSV (email, name, status, consent...), oldest subscription first")
    .option("--out <file>", "write to this file instead of stdout")
    .option("--excel", "start with a UTF-8 byte-order mark, so Excel shows names like 山田 correctly")
    .action(
      action(async (options: { out?: string; excel?: boolean }) => {
        const { exportCommand } = await cli();
        await (await context()).withDatabase((db) => exportCommand(db, options));
      }),
    );

  subscribers
    .command("unsubscribe <email>")
    .description("unsubscribe a reader, as their own link does: the row and its history stay")
    .action(
      action(async (email: string) => {
        const { unsubscribeCommand } = await cli();
        print(await (await context()).withDatabase((db) => unsubscribeCommand(db, email)));
      }),
    );

  subscribers
    .command("remove <email>")
    .description("erase the person's data (GDPR); only a hash of the address stays, suppressed")
    .action(
      action(async (email: string) => {
        const { removeCommand } = await cli();
        print(await (await context()).withDatabase((db) => removeCommand(db, email)));
      }),
    );

  subscribers
    .command("unsuppress <email>")
    .description("lift a bounce, complaint or erasure suppression")
    .action(
      action(async (email: string) => {
        const { unsuppressCommand } = await cli();
        print(await (await context()).withDatabase((db) => unsuppressCommand(db, email)));
      }),
    );
}
