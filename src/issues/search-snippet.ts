import { escapeHtml } from "./personalize.js";

/**
 * Marking the reader's words in a result. Postgres decides what matches (stemmed English, CJK
 * bigrams); this only shows where, on the original text, so it stays readable (ts_headline would
 * show the bigrams) and every character of it goes through escapeHtml: the only markup in the
 * output is our own <mark>.
 */

/** English words are marked by their root, so "sanctions" marks "sanction" and "sanctioned". */
function root(word: string): string {
  const lower = word.toLowerCase();
  const stripped = lower.replace(/(?:ies|es|s|ing|ed|y)$/, "");
  return stripped.length >= 3 ? stripped : lower;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const isLatin = (term: string) => /^[\p{L}\p{N}]+$/u.test(term) && !/[^\p{Script=Latin}\p{N}]/u.test(term);

function markPattern(marks: string[]): RegExp | undefined {
  const parts = marks
    .filter((m) => m.length > 0)
    .map((m) =>
      isLatin(m)
        ? `(?<![\\p{L}\\p{N}])${escapeRegExp(root(m))}[\\p{L}\\p{N}]*`
        : escapeRegExp(m.normalize("NFKC")),
    )
    // Longer first, so 日米同盟 wins over 日米 where both match.
    .sort((a, b) => b.length - a.length);
  return parts.length > 0 ? new RegExp(parts.join("|"), "giu") : undefined;
}

interface Range {
  start: number;
  end: number;
}

function ranges(text: string, pattern: RegExp | undefined): Range[] {
  if (!pattern) return [];
  return [...text.matchAll(pattern)]
    .filter((m) => m[0].length > 0)
    .map((m) => ({ start: m.index, end: m.index + m[0].length }));
}

function markedHtml(text: string, found: Range[], from: number, to: number): string {
  let html = "";
  let at = from;
  for (const r of found) {
    if (r.end <= from || r.start >= to) continue;
    const start = Math.max(r.start, at);
    const end = Math.min(r.end, to);
    if (start >= end) continue;
    html += `${escapeHtml(text.slice(at, start))}<mark>${escapeHtml(text.slice(start, end))}</mark>`;
    at = end;
  }
  return html + escapeHtml(text.slice(at, to));
}

export interface Marker {
  /** The whole text as HTML, the reader's words in <mark>. */
  highlight(text: string): string;
  /**
   * About `length` characters of the text as HTML, around the first of the reader's words (else
   * from the start), cut at spaces where there are any, with an ellipsis where text was left out.
   */
  snippet(text: string, length?: number): string;
}

/** Marks these words (from searchQuery's `marks`) in any number of texts: the pattern is built once. */
export function marker(marks: string[]): Marker {
  const pattern = markPattern(marks);
  return {
    highlight: (text) => markedHtml(text, ranges(text, pattern), 0, text.length),
    snippet: (text, length = 220) => snippet(text, pattern, length),
  };
}

function snippet(text: string, pattern: RegExp | undefined, length: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const found = ranges(flat, pattern);
  let from = Math.max(0, (found[0]?.start ?? 0) - Math.floor(length / 4));
  if (from > 0) {
    const space = flat.indexOf(" ", from);
    if (space !== -1 && space < (found[0]?.start ?? 0)) from = space + 1;
  }
  let to = Math.min(flat.length, from + length);
  if (to < flat.length) {
    const space = flat.lastIndexOf(" ", to);
    if (space > from + length / 2) to = space;
  }
  // Never cut a surrogate pair in half.
  if (from > 0 && /[\udc00-\udfff]/.test(flat[from] ?? "")) from--;
  if (to < flat.length && /[\udc00-\udfff]/.test(flat[to] ?? "")) to++;
  return `${from > 0 ? "… " : ""}${markedHtml(flat, found, from, to)}${to < flat.length ? " …" : ""}`;
}
