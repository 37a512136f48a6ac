import { describe, expect, it } from "vitest";
import { type FileResult, figureLine, figures, scoreCorpus } from "./corpus.js";

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/**
 * The labelled bounce corpus (test/fixtures/bounces), scored with its README's `filtered` rule, on
 * its tuning part only: the held-out third (fixed by a hash of the file name, see corpus.ts) is read
 * by `npm run corpus:held-out` and `npm run bench`, never here, so tuning against this test cannot
 * fit the rules to it. `npx vitest run test/bounces/corpus.test.ts` prints the figures.
 */
describe("the labelled bounce corpus, tuning part", async () => {
  const results: FileResult[] = await scoreCorpus("tuning");
  const f = figures(results);

  it("prints its figures", () => {
    const softAsNone = results.filter((r) => r.expected === "soft" && r.got === "none");
    const delayed = softAsNone.filter((r) => r.delayNotice).length;
    console.log(
      [
        `bounce corpus, tuning part: ${f.files} files, ${f.rows} labelled recipient rows`,
        figureLine("tuning part", f),
        `file type accuracy ${pct(f.fileAccuracy)}; row accuracy ${pct(f.rowAccuracy)}`,
        `recipients listed for ${f.withRecipients} of ${f.filesWithRows} files with label rows`,
        `${softAsNone.length} soft-labelled files typed none, ${delayed} of them delay notices (the spec types Action: delayed as none)`,
        "confusion (rows: label, columns: ours):",
        ...Object.entries(f.confusion).map(
          ([label, row]) =>
            `  ${label.padEnd(9)} ${Object.entries(row)
              .map(([k, v]) => `${k} ${v}`)
              .join("  ")}`,
        ),
      ].join("\n"),
    );
    expect(f.files).toBeGreaterThan(200);
  });

  // The spec's targets are 98 % precision and 95 % recall, by message. Row precision is held at its
  // measured 97.5 % by one message, lhost-x2-02: two of its three recipients get Yahoo's "This user
  // doesn't have a … account" (hard by our rules) and are labelled Sisimai `filtered`, but its third
  // row (a disabled account) keeps the message out of the corpus README's all-`filtered` rule.
  it("suppresses almost no reader wrongly, and hard recall stays above its floor", () => {
    expect(f.hardFile.precision).toBeGreaterThanOrEqual(0.98);
    expect(f.hardFile.recall).toBeGreaterThanOrEqual(0.95);
    expect(f.hardRow.precision).toBeGreaterThanOrEqual(0.97);
    expect(f.hardRow.recall).toBeGreaterThanOrEqual(0.95);
  });

  it("types every ARF report a complaint, with its feedback type", () => {
    const complaints = results.filter((r) => r.label.family === "arf" || r.expected === "complaint");
    expect(complaints.length).toBeGreaterThan(0);
    expect(complaints.filter((r) => r.got !== "complaint").map((r) => r.label.file)).toEqual([]);
    expect(f.complaints.feedbackTypeRight).toBe(f.complaints.labelled);
  });

  it("never classes a none-labelled message (auto-reply, delivered) hard", () => {
    const wrong = results.filter((r) => r.expected === "none" && r.got === "hard").map((r) => r.label.file);
    expect(wrong).toEqual([]);
  });

  it("lists recipients for nearly every labelled message", () => {
    expect(f.withRecipients / f.filesWithRows).toBeGreaterThanOrEqual(0.97);
  });
});
