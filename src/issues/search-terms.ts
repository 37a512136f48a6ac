/**
 * The words of archive search, shared by the stored documents (story-index.ts) and the reader's
 * query (search.ts), so both sides split text the same way.
 *
 * Postgres's text-search parser finds words at spaces and punctuation. Japanese and Chinese have
 * neither between words, so a whole sentence would become one "word" and 日米 would never match
 * inside it. Each run of CJK characters is therefore written as its overlapping bigrams
 * (日米同盟 -> 日米 米同 同盟), on the document side and the query side alike, and a query's run
 * becomes a phrase of its bigrams: 日米同盟 matches only those four characters in that order.
 * This needs no extension (pg_trgm, pgroonga), so it works the same on a server and on PGlite.
 */

/** Han, kana and Hangul, with the iteration mark 々, 〆 and the long-vowel mark ー (Common script). */
const cjkRun = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3005\u3006\u30fc]+/gu;

/**
 * Non-ASCII characters that are neither letters, digits nor marks. Under the C locale Postgres's
 * parser counts every non-ASCII character as a letter, so “trade” or 「日米」 would be one word
 * with its quotes; a space instead lets the words inside match.
 */
const foreignPunctuation = /[^\x20-\x7e\p{L}\p{N}\p{M}]/gu;

/** Full-width Latin letters and half-width kana become their usual forms (NFKC) on both sides. */
function normalise(text: string): string {
  return text.normalize("NFKC").replace(foreignPunctuation, " ");
}

function bigrams(run: string): string[] {
  const chars = Array.from(run);
  if (chars.length < 2) return chars;
  return chars.slice(0, -1).map((c, i) => c + chars[i + 1]);
}

/**
 * A text as it goes into `to_tsvector`: CJK runs as bigrams. The last character of each run is
 * added again at the end as a word of its own, so that a one-character query (核) matches every
 * place the character stands: as the start of a bigram, or as a run's last character.
 */
export function documentText(text: string): string {
  const tails: string[] = [];
  const body = normalise(text).replace(cjkRun, (run) => {
    const chars = Array.from(run);
    if (chars.length > 1) tails.push(chars.at(-1) ?? "");
    return ` ${bigrams(run).join(" ")} `;
  });
  return tails.length > 0 ? `${body} ${tails.join(" ")}` : body;
}

export interface SearchQuery {
  /** For `websearch_to_tsquery('english', …)`: the reader's syntax, each CJK run a phrase of bigrams. */
  websearch: string;
  /** Single CJK characters outside quotes: matched as word prefixes (`'核':*`); `-核` excludes. */
  prefixes: { char: string; negated: boolean }[];
  /** What to mark in the results: the words and CJK runs the reader asked for (not excluded ones). */
  marks: string[];
}

/** Quotation marks readers type for a phrase, taken as the `"` websearch syntax knows. */
const quotes = /[“”„«»「」『』]/g;
const latinWord = /[\p{L}\p{N}]+/gu;
const stopWords = new Set(["a", "an", "and", "or", "the", "of", "to", "in", "on", "for", "at", "by", "is"]);

/**
 * Turns what a reader typed into the parts of a tsquery. Never throws: websearch_to_tsquery takes
 * any text (unbalanced quotes, `&|!():*`) as words, and the prefixes are single CJK characters.
 */
export function searchQuery(typed: string): SearchQuery {
  const text = normalise(typed.replace(quotes, '"'));
  const prefixes: SearchQuery["prefixes"] = [];
  const marks = new Set<string>();
  const segments = text.split('"').map((segment, i) => {
    const quoted = i % 2 === 1;
    for (const m of segment.matchAll(/(^|\s)(-?)([^\s]+)/g)) {
      if (m[2] === "-" && !quoted) continue;
      for (const run of m[3]?.match(cjkRun) ?? []) marks.add(run);
      for (const word of m[3]?.replace(cjkRun, " ").match(latinWord) ?? [])
        if (!stopWords.has(word.toLowerCase())) marks.add(word);
    }
    if (quoted) return segment.replace(cjkRun, (run) => ` ${bigrams(run).join(" ")} `);
    // Each run outside quotes becomes a quoted phrase of its own: two quotes, so the reader's
    // quotes keep their pairing when the segments are joined again.
    return segment.replace(new RegExp(`(-?)(${cjkRun.source})`, "gu"), (_all, minus: string, run: string) => {
      if (Array.from(run).length === 1) {
        prefixes.push({ char: run, negated: minus === "-" });
        return " ";
      }
      return ` ${minus}"${bigrams(run).join(" ")}" `;
    });
  });
  return { websearch: segments.join('"').trim(), prefixes, marks: [...marks] };
}
