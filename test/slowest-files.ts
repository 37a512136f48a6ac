import type { Reporter, TestModule } from "vitest/node";

/** How many files the table lists: enough to see where the next minute of the suite goes. */
const shown = 15;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`.padStart(8);

/**
 * Prints, after the run, the slowest test files with their time: importing the file (collect) and
 * running its tests and hooks. The suite has a time budget; this table says which file to look at
 * first when it grows.
 */
export default class SlowestFiles implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const rows = modules
      .map((module) => {
        const d = module.diagnostic();
        const setup = d.environmentSetupDuration + d.prepareDuration + d.setupDuration;
        return {
          file: `${module.project.name}: ${module.relativeModuleId}`,
          total: setup + d.collectDuration + d.duration,
          collect: d.collectDuration,
          tests: d.duration,
        };
      })
      .sort((a, b) => b.total - a.total);
    if (rows.length < 2) return;
    const sum = rows.reduce((all, row) => all + row.total, 0);
    const lines = rows
      .slice(0, shown)
      .map(
        (row) =>
          `${seconds(row.total)}  (import ${seconds(row.collect)}, tests ${seconds(row.tests)})  ${row.file}`,
      );
    process.stdout.write(
      `\n Slowest test files (of ${rows.length}, ${(sum / 1000).toFixed(0)} s in all, across workers):\n` +
        `${lines.map((line) => `  ${line}`).join("\n")}\n`,
    );
  }
}
