import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { digest, repoRoot } from "../helpers/cli.js";

/**
 * `digest --version`, `--help` and `digest bounce FILE` start quickly because they load only what
 * they use: main.ts and the command files it reads at start import nothing heavy, each action
 * imports its implementation when it runs. These tests run the built CLI with a preload that lists
 * every module the process loaded, and check the list (not the time: the machine's load varies).
 */
const work = mkdtempSync(join(tmpdir(), "digest-startup-"));
const recorder = resolve(repoRoot, "test", "helpers", "module-log.mjs");
const bounceFile = resolve(repoRoot, "test", "fixtures", "bounces", "lhost-postfix-05.eml");

/** The npm packages (first folder under node_modules) a `digest ARGS` run loaded, and our modules. */
function loadedBy(args: string[]): { packages: Set<string>; ours: string[]; code: number | null } {
  const file = join(work, `${args.join("_").replace(/[^\w-]/g, "")}.log`);
  const run = digest(args, { env: { NODE_OPTIONS: `--import ${recorder}`, MODULE_LOG_FILE: file } });
  const urls = readFileSync(file, "utf8").split("\n").filter(Boolean);
  const packages = new Set(
    urls.flatMap((url) => {
      const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
      return m?.[1] ? [m[1]] : [];
    }),
  );
  const ours = urls.flatMap((url) => {
    const m = /\/dist\/src\/(.+\.js)$/.exec(url);
    return m?.[1] ? [m[1]] : [];
  });
  return { packages, ours, code: run.code };
}

// Packages no start-up path may pull in: the database, the queue, rendering, HTTP, mail.
const HEAVY = [
  "drizzle-orm",
  "postgres",
  "@electric-sql/pglite",
  "bullmq",
  "ioredis",
  "react",
  "react-dom",
  "@react-email/render",
  "@react-pdf/renderer",
  "hono",
  "@hono/node-server",
  "nodemailer",
  "smtp-server",
  "imapflow",
  "pino",
  "zod",
];

describe("the CLI at start", () => {
  for (const flag of ["--version", "--help"]) {
    it(`digest ${flag} loads commander and none of the packages the commands use`, () => {
      const { packages, ours, code } = loadedBy([flag]);
      expect(code).toBe(0);
      expect(ours).toContain("cli/main.js");
      expect([...packages]).toEqual(["commander"]);
    });
  }

  it("digest bounce FILE loads the message parser but no database, queue, renderer or server", () => {
    const { packages, ours, code } = loadedBy(["bounce", bounceFile]);
    expect(code).toBe(0);
    // The recorder sees CommonJS packages too: mailparser is one.
    expect(packages).toContain("mailparser");
    expect(HEAVY.filter((name) => packages.has(name))).toEqual([]);
    expect(ours.filter((path) => /^(?:db|sending|http|workers|issues)\/|^config\.js$/.test(path))).toEqual(
      [],
    );
  });
});
