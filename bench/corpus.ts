import { figureLine, figures, scoreCorpus } from "../test/bounces/corpus.js";

/**
 * The bounce corpus's held-out third (test/bounces/corpus.ts): the only reader of it besides
 * `npm run bench`, so the rules are never tuned against it. `npm run corpus:held-out` prints its
 * figures and exits 1 when they miss the targets (hard precision ≥ 98 %, recall ≥ 95 % by message,
 * every complaint found).
 */
export async function heldOutFigures() {
  return figures(await scoreCorpus("held-out"));
}

export function heldOutLine(f: Awaited<ReturnType<typeof heldOutFigures>>): string {
  return `bounce corpus: ${figureLine("held-out third", f)}\n`;
}

export function meetsTargets(f: Awaited<ReturnType<typeof heldOutFigures>>): boolean {
  return (
    f.hardFile.precision >= 0.98 && f.hardFile.recall >= 0.95 && f.complaints.found === f.complaints.labelled
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await heldOutFigures();
  process.stdout.write(heldOutLine(f));
  process.exit(meetsTargets(f) ? 0 : 1);
}
