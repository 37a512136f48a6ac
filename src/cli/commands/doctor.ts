import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("doctor")
    .description(
      "check whether this install's mail will be accepted (SPF, DKIM, DMARC, alignment, MX, the relay, " +
        "PUBLIC_URL) and print what to publish or change; exit 1 when a required check fails",
    )
    .option("--json", 'print one JSON object: {"ok", "checks": [{"id", "status", "message", "fix"?}]}')
    .action(
      action(async (opts: { json?: boolean }) => {
        const { doctorCommand } = await import("../doctor-command.js");
        return doctorCommand(opts);
      }),
    );
}
