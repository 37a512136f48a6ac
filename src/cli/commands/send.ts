import type { Command } from "commander";
import { action } from "../action.js";
import { newsletterOption } from "../context.js";

export function register(program: Command): void {
  program
    .command("send")
    .description("store an issue and start a send to every active reader; prints the send id")
    .argument("<issue>", "an issue Markdown file, or a stored issue's id or slug")
    .option("--test <email...>", "send only to these addresses (a test send, not in the archive)")
    .option("--at <iso-time>", "start at this time instead of now (a worker starts it when due)")
    .option("--again", "start another send of an issue that was already sent")
    .option("--follow", "show progress until the send is done")
    .option(...newsletterOption)
    .action(
      action(async (issue: string, opts: Record<string, unknown>) => {
        const { sendCommand } = await import("../send-command.js");
        return sendCommand(issue, opts);
      }),
    );
}
