import type { Command } from "commander";
import { action } from "../action.js";

const descriptions = {
  pause: "stop a running send; rows not yet claimed wait until resume",
  resume:
    "continue a paused send; for a scheduled send whose issue changed after approval, approve the new text (asks for the reader count as send does)",
  cancel: "stop a send for good; rows not yet claimed are skipped",
} as const;

/** `digest pause | resume | cancel <SEND-ID>`: three commands, one shape. */
export function register(program: Command): void {
  for (const name of ["pause", "resume", "cancel"] as const) {
    const command = program
      .command(name)
      .description(descriptions[name])
      .argument("[send]", "a send id, an issue slug (its latest send), or nothing (the latest send)");
    if (name === "resume")
      command
        .option("--yes", "approve without a terminal to type the reader count on (see digest send)")
        .option(
          "--force",
          "resume a send a circuit breaker paused (too many complaints or hard bounces); it trips again only for a further rise",
        );
    command.action(
      action(async (sendId: string | undefined, opts: { yes?: boolean; force?: boolean }) => {
        const { controlCommand } = await import("../send-command.js");
        return controlCommand(name, sendId, opts);
      }),
    );
  }
}
