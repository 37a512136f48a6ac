import { spawnSync } from "node:child_process";
import { join } from "node:path";

/**
 * Whole-process start times of the built CLI (`node dist/src/cli/main.js`, as `digest` runs once
 * installed): each command spawned `runs` times in a row, timed from spawn to exit. Needs
 * `npm run build` first (`npm run bench` builds).
 */
const root = join(import.meta.dirname, "..");
const main = join(root, "dist", "src", "cli", "main.js");
const bounceFixture = join(root, "test", "fixtures", "bounces", "lhost-postfix-05.eml");

export const cliCases: readonly { name: string; args: string[]; targetMs?: number }[] = [
  // Node itself, for scale: what no CLI can start faster than on this machine at this moment.
  { name: "(node -e 0)", args: ["-e", "0"] },
  { name: "--version", args: ["--version"], targetMs: 150 },
  { name: "--help", args: ["--help"], targetMs: 150 },
  { name: "bounce FILE", args: ["bounce", bounceFixture], targetMs: 400 },
];

export interface CliFigure {
  name: string;
  medianMs: number;
  p90Ms: number;
  targetMs?: number;
}

/** The value at quantile q of the sorted times (nearest rank). */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

export function benchCli(runs = Number(process.env.BENCH_CLI_RUNS ?? 10)): CliFigure[] {
  return cliCases.map(({ name, args, targetMs }) => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      const argv = name.startsWith("(") ? args : [main, ...args];
      const run = spawnSync(process.execPath, argv, { stdio: ["ignore", "pipe", "pipe"] });
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (run.status !== 0) throw new Error(`digest ${name} exited ${run.status}: ${run.stderr}`);
    }
    times.sort((a, b) => a - b);
    return {
      name,
      medianMs: quantile(times, 0.5),
      p90Ms: quantile(times, 0.9),
      ...(targetMs ? { targetMs } : {}),
    };
  });
}

export function formatCliFigures(
  figures: CliFigure[],
  runs = Number(process.env.BENCH_CLI_RUNS ?? 10),
): string {
  const lines = figures.map(
    (f) =>
      `  ${f.name.startsWith("(") ? f.name : `digest ${f.name}`}: median ${f.medianMs.toFixed(0)} ms, p90 ${f.p90Ms.toFixed(0)} ms${f.targetMs ? ` (target ≤ ${f.targetMs} ms)` : ""}`,
  );
  return `CLI start, whole process, ${runs} runs each:\n${lines.join("\n")}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(formatCliFigures(benchCli()));
