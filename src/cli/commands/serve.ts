import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("serve")
    .description(
      "the HTTP service on $PORT (default 3000): subscribe pages, one-click unsubscribe, admin API",
    )
    .action(
      action(async () => {
        const { runServe } = await import("../../http/server.js");
        await runServe();
      }),
    );
}
