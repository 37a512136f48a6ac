import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("serve")
    .description(
      "the HTTP service on $PORT (default 3000) and the inbound SMTP server on $INBOUND_SMTP_PORT (default 2525)",
    )
    .action(
      action(async () => {
        const { runServe } = await import("../serve-process.js");
        await runServe();
      }),
    );
}
