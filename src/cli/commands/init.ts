import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("init")
    .description(
      "write .env with fresh random SECRET and ADMIN_TOKEN (refuses to overwrite an existing .env)",
    )
    .action(
      action(async () => {
        const { initEnv } = await import("../init-command.js");
        const file = initEnv();
        process.stdout.write(`wrote ${file} with a fresh SECRET and ADMIN_TOKEN\n`);
      }),
    );
}
