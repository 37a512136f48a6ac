/**
 * Scores parseBounce against the labelled bounce corpus (test/fixtures/bounces, copied from the
 * Sisimai sample; see its README). Row level: label row i is compared with the i-th recipient we
 * report (a missing recipient counts as "none"). File level: the file's label is its most severe
 * row class, compared with `type`. Hard precision and recall follow the corpus README's `filtered`
 * rule: a message whose rows are all Sisimai `filtered` is right whether we call it hard or soft.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BounceType } from "../../src/bounces/bounce.js";
import { parseBounce } from "../../src/bounces/parse.js";
import { mostSevere } from "../../src/bounces/severity.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const corpusDir = path.resolve(repoRoot, "test", "fixtures", "bounces");

/**
 * The held-out third: a file belongs to it when the first byte of sha256(file name) is a multiple
 * of 3 (fixed before any tuning). Rules are tuned on the rest. The held-out third is read only by
 * `npm run corpus:held-out` and the figure line of `npm run bench`, never by the tuning test, so a
 * rule cannot be fitted to it by accident; a rule that only helps one part does not go in.
 */
export function isHeldOut(file: string): boolean {
  return (createHash("sha256").update(file).digest()[0] ?? 0) % 3 === 0;
}

/** "tuning": the two thirds rules are fitted on; "held-out": the third that checks they generalise. */
export type CorpusPart = "tuning" | "held-out";

export interface Label {
  file: string;
  family: string;
  rows: { status: string; reason: string; class: BounceType; feedbackType: string }[];
}

export interface FileResult {
  label: Label;
  expected: BounceType;
  got: BounceType;
  rowsGot: BounceType[];
  recipients: number;
  /** Every recipient's Action was "delayed": a delay notice, typed none by the spec. */
  delayNotice: boolean;
  feedbackType?: string;
  /** Every label row is Sisimai's `filtered`: hard or soft are both right (the README's rule). */
  allFiltered: boolean;
}

/** Parses and scores one part's messages; the other part's files are not opened. */
export async function scoreCorpus(part: CorpusPart): Promise<FileResult[]> {
  const inPart = (file: string) => isHeldOut(file) === (part === "held-out");
  const labels = (JSON.parse(await readFile(path.join(corpusDir, "labels.json"), "utf8")) as Label[]).filter(
    (label) => inPart(label.file),
  );
  const files = new Set((await readdir(corpusDir)).filter((f) => f.endsWith(".eml") && inPart(f)));
  const results: FileResult[] = [];
  for (const label of labels) {
    if (!files.has(label.file)) continue;
    const bounce = await parseBounce(await readFile(path.join(corpusDir, label.file)));
    results.push({
      label,
      expected: mostSevere(label.rows.map((r) => ({ type: r.class }))),
      got: bounce.type,
      rowsGot: label.rows.map((_, i) => bounce.recipients[i]?.type ?? "none"),
      recipients: bounce.recipients.length,
      delayNotice: bounce.recipients.length > 0 && bounce.recipients.every((r) => r.action === "delayed"),
      allFiltered: label.rows.length > 0 && label.rows.every((r) => r.reason === "filtered"),
      ...(bounce.feedbackType ? { feedbackType: bounce.feedbackType } : {}),
    });
  }
  return results;
}

const CLASSES: BounceType[] = ["hard", "soft", "complaint", "none"];

export interface Figures {
  files: number;
  fileAccuracy: number;
  rows: number;
  rowAccuracy: number;
  hardRow: { tp: number; fp: number; fn: number; precision: number; recall: number };
  hardFile: { tp: number; fp: number; fn: number; precision: number; recall: number };
  confusion: Record<BounceType, Record<BounceType, number>>;
  withRecipients: number;
  filesWithRows: number;
  /** ARF reports (labelled complaint): how many, how many typed complaint, and with its feedback type. */
  complaints: { labelled: number; found: number; feedbackTypeRight: number };
}

export function figures(results: FileResult[]): Figures {
  const confusion = Object.fromEntries(
    CLASSES.map((c) => [c, Object.fromEntries(CLASSES.map((d) => [d, 0]))]),
  ) as Figures["confusion"];
  const row = { tp: 0, fp: 0, fn: 0 };
  const file = { tp: 0, fp: 0, fn: 0 };
  let rows = 0;
  let rowsRight = 0;
  for (const r of results) {
    confusion[r.expected][r.got]++;
    // The filtered rule: such a message called hard is neither a hit nor a false alarm.
    if (!(r.allFiltered && r.got === "hard")) count(file, r.expected === "hard", r.got === "hard");
    r.label.rows.forEach((l, i) => {
      const got = r.rowsGot[i] ?? "none";
      rows++;
      if (got === l.class || (r.allFiltered && got === "hard")) rowsRight++;
      if (!(r.allFiltered && got === "hard")) count(row, l.class === "hard", got === "hard");
    });
  }
  const rate = (a: number, b: number) => (b === 0 ? 1 : a / b);
  const complaints = results.filter((r) => r.label.family === "arf" || r.expected === "complaint");
  const withRates = (c: typeof row) => ({
    ...c,
    precision: rate(c.tp, c.tp + c.fp),
    recall: rate(c.tp, c.tp + c.fn),
  });
  return {
    files: results.length,
    fileAccuracy: rate(results.filter((r) => r.expected === r.got).length, results.length),
    rows,
    rowAccuracy: rate(rowsRight, rows),
    hardRow: withRates(row),
    hardFile: withRates(file),
    confusion,
    withRecipients: results.filter((r) => r.label.rows.length > 0 && r.recipients > 0).length,
    filesWithRows: results.filter((r) => r.label.rows.length > 0).length,
    complaints: {
      labelled: complaints.length,
      found: complaints.filter((r) => r.got === "complaint").length,
      feedbackTypeRight: complaints.filter(
        (r) => r.got === "complaint" && r.feedbackType === r.label.rows[0]?.feedbackType,
      ).length,
    },
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** One line of figures, as the tuning test and `npm run bench` print them. */
export function figureLine(name: string, f: Figures): string {
  return (
    `${name} (${f.files} files): hard precision ${pct(f.hardFile.precision)} recall ${pct(f.hardFile.recall)} ` +
    `(files: tp ${f.hardFile.tp}, fp ${f.hardFile.fp}, fn ${f.hardFile.fn}); rows: precision ` +
    `${pct(f.hardRow.precision)} recall ${pct(f.hardRow.recall)}; complaints found ${f.complaints.found} of ` +
    `${f.complaints.labelled} (feedback type right ${f.complaints.feedbackTypeRight})`
  );
}

function count(c: { tp: number; fp: number; fn: number }, expected: boolean, got: boolean): void {
  if (expected && got) c.tp++;
  else if (got) c.fp++;
  else if (expected) c.fn++;
}
