import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("status")
    .description("deliveries of a send by status, ambiguous, rate and time left (default: the latest send)")
    .argument("[send-id]", "the send (default: the latest)")
    .option("--json", "print one JSON object")
    .action(
      action(async (sendId: string | undefined, opts: { json?: boolean }) => {
        const { statusCommand } = await import("../send-command.js");
        return statusCommand(sendId, opts);
      }),
    );
}
