import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("retry")
    .description("re-queue a send's failed and deferred deliveries (after fixing their cause)")
    .argument("[send]", "a send id, an issue slug (its latest send), or nothing (the latest send)")
    .option("--force", "also resume a send a circuit breaker paused (see digest resume --force)")
    .action(
      action(async (sendId: string | undefined, opts: { force?: boolean }) => {
        const { controlCommand } = await import("../send-command.js");
        return controlCommand("retry", sendId, opts);
      }),
    );
}
