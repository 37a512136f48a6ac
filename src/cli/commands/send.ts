import type { Command } from "commander";
import { action } from "../action.js";
import { newsletterOption } from "../options.js";

export function register(program: Command): void {
  program
    .command("send")
    .description("store an issue and start a send to every active reader; prints the send id")
    .argument("<issue>", "an issue Markdown file, or a stored issue's id or slug")
    .option("--test <email...>", "send only to these addresses (a test send, not in the archive)")
    .option(
      "--at <time>",
      'start later: "2026-12-01 09:00" (read in TIMEZONE) or an ISO time with an offset; a worker starts it when due',
    )
    .option("--again", "start another send of an issue that was already sent")
    .option("--follow", "show progress until the send is done")
    .option("--yes", "send without asking (needed when there is no terminal to confirm the reader count on)")
    .option(...newsletterOption)
    .action(
      action(async (issue: string, opts: Record<string, unknown>) => {
        const { sendCommand } = await import("../send-command.js");
        return sendCommand(issue, opts);
      }),
    );
}
