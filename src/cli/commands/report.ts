import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("report")
    .description(
      "readership of a send: per story, people and all clickers; opens by people and by machines; events by class (default: the latest non-test send)",
    )
    .argument("[send]", "a send id, an issue slug (its latest send), or nothing (the latest non-test send)")
    .option("--json", "print one JSON object")
    .action(
      action(async (sendId: string | undefined, opts: { json?: boolean }) => {
        const { reportCommand } = await import("../report-command.js");
        return reportCommand(sendId, opts);
      }),
    );
}
