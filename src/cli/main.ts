#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { packageRoot } from "../paths.js";

type CommandFile = () => Promise<{ register(program: Command): void }>;

const control: CommandFile = () => import("./commands/control.js");
/**
 * `digest`: each command lives in its own file under commands/. Which file registers each command, in the order `digest --help` lists them. Only the named
 * command's file is loaded (`digest bounce` never reads the database code); help, a mistyped name
 * or no name loads them all. The files themselves import nothing heavy: each action imports its
 * implementation when it runs (test/cli/startup.test.ts checks that).
 */
const commands: Record<string, CommandFile> = {
  render: () => import("./commands/render.js"),
  lint: () => import("./commands/lint.js"),
  preview: () => import("./commands/preview.js"),
  migrate: () => import("./commands/migrate.js"),
  bounce: () => import("./commands/bounce.js"),
  serve: () => import("./commands/serve.js"),
  subscribers: () => import("./commands/subscribers.js"),
  worker: () => import("./commands/worker.js"),
  send: () => import("./commands/send.js"),
  retry: () => import("./commands/retry.js"),
  status: () => import("./commands/status.js"),
  report: () => import("./commands/report.js"),
  pause: control,
  resume: control,
  cancel: control,
  issues: () => import("./commands/issues.js"),
  staff: () => import("./commands/staff.js"),
  demo: () => import("./commands/demo.js"),
  doctor: () => import("./commands/doctor.js"),
  init: () => import("./commands/init.js"),
};

// `digest subscribers export | head`: a reader that stops reading is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const program = new Command("digest")
  .description("Digest: compose a newsletter issue in Markdown, and deliver it to every confirmed reader")
  .version(
    (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version,
    "-V, --version",
    "print the version of digest",
  )
  .showHelpAfterError()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

// A command named first is the only one registered. Anything else (-h or -V before a command, a
// mistyped name, nothing) gets them all, so help lists every command and a typo gets its
// suggestion, except -V alone, which prints the version before any command is read.
const args = process.argv.slice(2);
const named = args[0];
const files =
  named !== undefined && Object.hasOwn(commands, named)
    ? [commands[named]]
    : args.some((arg) => arg === "-V" || arg === "--version") && !args.some((arg) => !arg.startsWith("-"))
      ? []
      : Object.values(commands);
for (const file of new Set(files)) if (file) (await file()).register(program);

program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});
await program.parseAsync(process.argv);
