import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { benchCli, formatCliFigures } from "./cli.js";
import { heldOutFigures, heldOutLine } from "./corpus.js";
import { benchSend, formatPipelineTable } from "./send.js";

/**
 * `npm run bench`: the send benchmark, the import benchmark, the PDF edition's render time, then
 * archive search at 500 issues, the CLI's start times, the bounce corpus's held-out figures, and
 * `/r/` against `/healthz`. BENCH_ONLY=cli prints the CLI and corpus lines only (no database or
 * Redis needed); BENCH_ONLY=tracking runs only the last.
 */
if (process.env.BENCH_ONLY === "cli") {
  process.stdout.write(formatCliFigures(benchCli()));
  process.stdout.write(heldOutLine(await heldOutFigures()));
  process.exit(0);
}
async function printTracking() {
  const { benchTracking } = await import("./tracking.js");
  const tracking = await benchTracking();
  process.stdout.write(`tracking redirect benchmark (${new Date().toISOString()}, ab):\n`);
  for (const [key, value] of Object.entries(tracking)) process.stdout.write(`  ${key}: ${value}\n`);
}

if (process.env.BENCH_ONLY === "tracking") {
  await printTracking();
  process.exit(0);
}

const figures = await benchSend();
process.stdout.write(`send benchmark (${new Date().toISOString()}):\n`);
for (const [key, value] of Object.entries(figures)) process.stdout.write(`  ${key}: ${value}\n`);
if (figures.pipelineMsgsPerSec !== undefined) process.stdout.write(formatPipelineTable(figures));

// BENCH_ONLY (plan, pipeline) asks for one send figure: the other benchmarks are left out.
if (process.env.BENCH_ONLY) process.exit(0);
// The import runs in a process of its own, with the Node flags the README gives workers and the
// CLI, so its peak RSS is the importer's and not what the send benchmark left in this heap.
const imported = spawnSync(
  process.execPath,
  ["--max-semi-space-size=2", "--import", "tsx", join(import.meta.dirname, "import.ts")],
  { stdio: ["ignore", "inherit", "inherit"] },
);
if (imported.status !== 0) process.stdout.write(`import benchmark failed (exit ${imported.status})\n`);
const { benchPdf, formatPdfFigures } = await import("./pdf.js");
process.stdout.write(formatPdfFigures(await benchPdf()));
process.stdout.write(formatCliFigures(benchCli()));
process.stdout.write(heldOutLine(await heldOutFigures()));
const { benchSearch, formatSearchFigures } = await import("./search.js");
process.stdout.write(formatSearchFigures(await benchSearch()));
await printTracking();
process.exit(0);
