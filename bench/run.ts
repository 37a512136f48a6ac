import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { benchSend, formatPipelineTable } from "./send.js";

/** `npm run bench`: the send benchmark, the import benchmark, then the PDF edition's render time. */
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
process.exit(0);
