import { existsSync } from "node:fs";
import { join } from "node:path";
import { benchSend } from "./send.js";

/** `npm run bench`: the send benchmark, the import benchmark when bench/import.ts exists, then the PDF edition's render time. */
const figures = await benchSend();
process.stdout.write(`send benchmark (${new Date().toISOString()}):\n`);
for (const [key, value] of Object.entries(figures)) process.stdout.write(`  ${key}: ${value}\n`);

const importBench = join(import.meta.dirname, "import.ts");
// BENCH_ONLY (plan, pipeline) asks for one send figure: the other benchmarks are left out.
if (process.env.BENCH_ONLY) process.exit(0);
if (existsSync(importBench)) {
  const module = (await import("./import.js")) as { benchImport?: () => Promise<unknown> };
  const result = await module.benchImport?.();
  if (result !== undefined) process.stdout.write(`import benchmark: ${JSON.stringify(result)}\n`);
}
const { benchPdf, formatPdfFigures } = await import("./pdf.js");
process.stdout.write(formatPdfFigures(await benchPdf()));
process.exit(0);
