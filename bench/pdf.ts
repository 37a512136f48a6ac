import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseIssue } from "../src/issues/parse.js";
import { renderIssuePdf } from "../src/issues/pdf.js";
import { loadNewsletter } from "../src/newsletter.js";

const root = join(import.meta.dirname, "..");

export interface PdfFigures {
  /** The first render in a fresh process: loads and parses the two 5 MB fonts too. */
  seedFirstMs: number;
  /** Median of the next renders: what each later issue costs a running server. */
  seedMs: number;
  seedKb: number;
  seedPages: number;
  tenfoldMs: number;
  tenfoldKb: number;
  tenfoldPages: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const pagesOf = (pdf: Buffer) => pdf.toString("latin1").match(/\/Type \/Page\b/g)?.length ?? 0;

/** The seed issue's body ten times over, each copy's headlines made distinct. */
function tenfold(source: string): string {
  const end = source.indexOf("\n---", 4) + 4;
  const front = source.slice(0, end);
  const body = source.slice(end);
  const copies = Array.from({ length: 10 }, (_, k) => body.replace(/^## (.+)$/gm, `## $1 (part ${k + 1})`));
  return `${front}\n${copies.join("\n")}`;
}

/** Renders the seed issue's PDF edition (and one ten times its length) and times it. */
export async function benchPdf(runs = 5): Promise<PdfFigures> {
  const newsletter = loadNewsletter(join(root, "newsletter.yaml"));
  const source = readFileSync(join(root, "examples/issues/vol-2-6.md"), "utf8");
  const seed = parseIssue(source).issue;
  const big = parseIssue(tenfold(source)).issue;
  if (!seed || !big) throw new Error("the seed issue does not parse");
  const time = async (issue: typeof seed) => {
    const started = performance.now();
    const pdf = await renderIssuePdf(issue, newsletter);
    return { ms: performance.now() - started, pdf };
  };
  const first = await time(seed);
  const seedRuns = [];
  for (let i = 0; i < runs; i++) seedRuns.push(await time(seed));
  const bigRuns = [];
  for (let i = 0; i < Math.max(1, Math.ceil(runs / 2)); i++) bigRuns.push(await time(big));
  const kb = (pdf: Buffer) => Math.round(pdf.length / 102.4) / 10;
  return {
    seedFirstMs: Math.round(first.ms),
    seedMs: Math.round(median(seedRuns.map((r) => r.ms))),
    seedKb: kb(first.pdf),
    seedPages: pagesOf(first.pdf),
    tenfoldMs: Math.round(median(bigRuns.map((r) => r.ms))),
    tenfoldKb: kb(bigRuns[0]?.pdf ?? Buffer.alloc(0)),
    tenfoldPages: pagesOf(bigRuns[0]?.pdf ?? Buffer.alloc(0)),
  };
}

export function formatPdfFigures(f: PdfFigures): string {
  return (
    `pdf: seed issue (${f.seedPages} pages, ${f.seedKb} KB) ${f.seedMs} ms (first render in a fresh process ${f.seedFirstMs} ms); ` +
    `10x the seed (${f.tenfoldPages} pages, ${f.tenfoldKb} KB) ${f.tenfoldMs} ms\n`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(formatPdfFigures(await benchPdf()));
}
