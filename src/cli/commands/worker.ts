import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("worker")
    .description(
      "run the sending workers in this process (run several, on one or many machines, for more throughput)",
    )
    .action(
      action(async () => {
        const { runWorkers } = await import("../../../workers/main.js");
        await runWorkers();
      }),
    );
}
