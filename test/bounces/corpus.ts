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
 * The held-out third, fixed before any tuning: a file belongs to it when the first byte of
 * sha256(file name) is a multiple of 3. Rules are tuned on the rest; a rule that only helps the
 * tuned part does not go in.
 */
export function isHeldOut(file: string): boolean {
  return (createHash("sha256").update(file).digest()[0] ?? 0) % 3 === 0;
}

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

export async function scoreCorpus(): Promise<FileResult[]> {
  const labels = JSON.parse(await readFile(path.join(corpusDir, "labels.json"), "utf8")) as Label[];
  const files = new Set((await readdir(corpusDir)).filter((f) => f.endsWith(".eml")));
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
  };
}

function count(c: { tp: number; fp: number; fn: number }, expected: boolean, got: boolean): void {
  if (expected && got) c.tp++;
  else if (got) c.fp++;
  else if (expected) c.fn++;
}
