import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  const issues = program.command("issues").description("stored issues");
  issues
    .command("list")
    .description("stored issues and their sends")
    .option("--json", "print JSON")
    .action(
      action(async (opts: { json?: boolean }) => {
        const { issuesListCommand } = await import("../send-command.js");
        return issuesListCommand(opts);
      }),
    );
}
