import { spawn, spawnSync } from "node:child_process";
import { resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "..", "..");
export const digestBin = resolve(repoRoot, "dist", "src", "cli", "main.js");

/** Runs the compiled `digest` command as a user would, with only the given extra environment. */
export function digest(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {},
) {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v === undefined) delete env[k];
  const result = spawnSync(process.execPath, [digestBin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: env as NodeJS.ProcessEnv,
    input: options.input,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `digest(...)` without blocking this process: for commands that talk to servers the test runs in
 * this same process (a DNS server, an SMTP relay), which a blocked event loop could not answer, and
 * for runs that do not depend on each other, which can then go at the same time. Without `input`,
 * stdin is /dev/null.
 */
export function digestAsync(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v === undefined) delete env[k];
  return new Promise((resolvePromise, reject) => {
    const common = { cwd: options.cwd ?? repoRoot, env: env as NodeJS.ProcessEnv, timeout: 120_000 };
    const argv = [digestBin, ...args];
    const child =
      options.input === undefined
        ? spawn(process.execPath, argv, { ...common, stdio: ["ignore", "pipe", "pipe"] })
        : spawn(process.execPath, argv, { ...common, stdio: ["pipe", "pipe", "pipe"] });
    // A command that exits without reading its input is not an error of the test (as with spawnSync).
    child.stdin?.on("error", () => {}).end(options.input);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.once("error", reject);
    child.once("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/**
 * Starts a `digest` command that runs until stopped (`status --follow`), and stops it (SIGTERM) once
 * its stderr so far satisfies `enough`, or after `timeoutMs`: the output is the same as after a fixed
 * wait, without the rest of the wait.
 */
export function digestUntil(
  args: string[],
  enough: (stderr: string) => boolean,
  options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v === undefined) delete env[k];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [digestBin, ...args], {
      cwd: repoRoot,
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timer = setTimeout(() => child.kill(), options.timeoutMs ?? 60_000);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (enough(stderr)) child.kill();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
