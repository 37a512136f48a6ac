import type { Command } from "commander";
import { action } from "../action.js";
import { newsletterOption } from "../options.js";

export function register(program: Command): void {
  program
    .command("render")
    .description("render an issue to HTML, plain text, a sample .eml and the PDF edition (needs no database)")
    .argument("<issue.md>", "the issue's Markdown file")
    .option("--out <dir>", "output folder, created if missing", "out")
    .option(...newsletterOption)
    .action(
      action(async (file: string, opts: { out: string; newsletter?: string }) => {
        const { renderCommand } = await import("../render-command.js");
        return renderCommand(file, opts);
      }),
    );
}
