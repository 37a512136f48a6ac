#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { packageRoot } from "../paths.js";
import * as bounce from "./commands/bounce.js";
import * as control from "./commands/control.js";
import * as demo from "./commands/demo.js";
import * as doctor from "./commands/doctor.js";
import * as init from "./commands/init.js";
import * as issues from "./commands/issues.js";
import * as lint from "./commands/lint.js";
import * as migrate from "./commands/migrate.js";
import * as preview from "./commands/preview.js";
import * as render from "./commands/render.js";
import * as report from "./commands/report.js";
import * as retry from "./commands/retry.js";
import * as send from "./commands/send.js";
import * as serve from "./commands/serve.js";
import * as staff from "./commands/staff.js";
import * as status from "./commands/status.js";
import * as subscribers from "./commands/subscribers.js";
import * as worker from "./commands/worker.js";

/**
 * `digest`: each command lives in its own file under commands/ and imports its implementation
 * lazily, so `digest --help` is instant and `digest worker` never loads React.
 */
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

for (const command of [
  render,
  lint,
  preview,
  migrate,
  bounce,
  serve,
  subscribers,
  worker,
  send,
  retry,
  status,
  report,
  control,
  issues,
  staff,
  demo,
  doctor,
  init,
])
  command.register(program);

program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});
await program.parseAsync(process.argv);
