import type { Command } from "commander";
import { action } from "../action.js";
import { newsletterOption } from "../options.js";

export function register(program: Command): void {
  program
    .command("lint")
    .description(
      'check an issue: front matter, stories, links, images, size, unsubscribe link (exit 1 on an error); warns about link text like "here" or a bare URL and text under 4.5:1 contrast',
    )
    .argument("<issue.md>", "the issue's Markdown file")
    .option(...newsletterOption)
    .action(
      action(async (file: string, opts: { newsletter?: string }) => {
        const { lintCommand } = await import("../render-command.js");
        return lintCommand(file, opts);
      }),
    );
}
