import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("status")
    .description("deliveries of a send by status, ambiguous, rate and time left (default: the latest send)")
    .argument("[send]", "a send id, an issue slug (its latest send), or nothing (the latest send)")
    .option("--json", "print one JSON object (with --follow: one per change, until the send ends)")
    .option("--follow", "show progress until the send is done, then its report")
    .action(
      action(async (sendId: string | undefined, opts: { json?: boolean; follow?: boolean }) => {
        const { statusCommand } = await import("../send-command.js");
        return statusCommand(sendId, opts);
      }),
    );
}
