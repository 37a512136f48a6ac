import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("demo")
    .description(
      "the whole pipeline in one process on embedded defaults: sends the example issue to sample readers " +
        "through a capture server (.data/outbox/*.eml), simulates a bounce and an unsubscribe, prints a summary",
    )
    .option("--readers <n>", "how many sample readers", "300")
    .option("--serve", "keep the web service and inbound server running after the summary, until Ctrl-C")
    .action(
      action(async (opts: { readers: string; serve?: boolean }) => {
        const readers = Number(opts.readers);
        if (!Number.isInteger(readers) || readers < 2 || readers > 100_000) {
          const { DigestError } = await import("../../errors.js");
          throw new DigestError("invalid", "--readers must be a whole number from 2 to 100000");
        }
        const { runDemo } = await import("../demo/run.js");
        return runDemo({ readers, serve: opts.serve === true });
      }),
    );
}
