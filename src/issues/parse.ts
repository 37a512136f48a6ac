import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import type { Block, Story } from "../../emails/_components/content.js";
import {
  blocks,
  type Converter,
  checkHref,
  countLines,
  inlines,
  lex,
  type Problem,
  plainText,
} from "./markdown.js";

/** An issue as staff wrote it, parsed: front matter checked, each `##` heading one story. */
export interface ParsedIssue {
  slug: string;
  volume: string;
  /** ISO date, YYYY-MM-DD. */
  date: string;
  subject: string;
  preheader?: string;
  pdf?: string;
  intro: Block[];
  stories: Story[];
  source: string;
}

export interface ParseResult {
  issue?: ParsedIssue;
  problems: Problem[];
}

const oneLine = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `${what} is empty`)
    .refine((s) => !/[\r\n\0]/.test(s), `${what} must be one line (no line breaks)`);

const FrontMatter = z.object({
  volume: z.union([z.string(), z.number()]).transform(String).pipe(oneLine("volume")),
  date: z.union([z.string(), z.date()]).transform((d, ctx) => {
    const date = calendarDate(d);
    if (!date) {
      ctx.addIssue({
        code: "custom",
        message: `"${d instanceof Date ? d.toISOString() : d}" is not a real calendar date (use YYYY-MM-DD)`,
      });
      return z.NEVER;
    }
    return date;
  }),
  subject: oneLine("subject").pipe(z.string().max(200, "subject is longer than 200 characters")),
  preheader: oneLine("preheader").optional(),
  pdf: z.string().optional(),
  intro: z.string().optional(),
});
const knownKeys = new Set(["volume", "date", "subject", "preheader", "pdf", "intro"]);

/**
 * `2023-02-30` must not quietly become March 2: the day is checked against the month, and an ISO
 * time after the date is allowed but only its date is kept.
 */
export function calendarDate(value: string | Date): string | undefined {
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? undefined : value.toISOString().slice(0, 10);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(value.trim());
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return undefined;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

export function slugForVolume(volume: string): string {
  return `vol-${volume
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")}`;
}

/**
 * Parses an issue file. Never throws on bad input: every problem comes back with its line. With
 * `fileName`, a file named for another volume (vol-2-10.md holding 2.7) is a warning.
 */
export function parseIssue(source: string, options: { fileName?: string } = {}): ParseResult {
  const problems: Problem[] = [];
  const text = source.replace(/\r\n?/g, "\n").replace(/^\uFEFF/, "");
  const fm = /^---\n([\s\S]*?)\n---[ \t]*(?:\n|$)/.exec(text);
  if (!fm) {
    problems.push({
      severity: "error",
      line: 1,
      message: "no front matter: the file must start with a '---' YAML block",
    });
    return { problems };
  }
  const front = readFrontMatter(fm[1] ?? "", problems);
  const bodyStart = countLines(fm[0]) + 1;
  const body = text.slice(fm[0].length);

  const into: Converter = { problems, fragments: [] };
  const { intro, stories } = readStories(body, bodyStart, into);
  if (front?.intro) intro.unshift(...blocks(lex(front.intro), 2, into));
  if (stories.length === 0)
    problems.push({
      severity: "error",
      line: bodyStart,
      message: "no story: each story starts with a '## ' heading",
    });
  const ids = new Set(stories.map((s) => s.id));
  for (const f of into.fragments) {
    if (!ids.has(f.id))
      problems.push({
        severity: "warning",
        line: f.line,
        message: `link to #${f.id}: no story has that anchor`,
      });
  }
  const pdf = front?.pdf ? checkHref(front.pdf, 2, into, "pdf") : undefined;
  if (front) problems.push(...volumeAgreement(front, options.fileName, fm[1] ?? ""));
  if (!front || problems.some((p) => p.severity === "error")) return { problems: sortProblems(problems) };
  return {
    issue: {
      slug: slugForVolume(front.volume),
      volume: front.volume,
      date: front.date,
      subject: front.subject,
      preheader: front.preheader,
      pdf,
      intro,
      stories,
      source,
    },
    problems: sortProblems(problems),
  };
}

function readFrontMatter(yamlText: string, problems: Problem[]) {
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines });
  if (doc.errors.length > 0) {
    const seen = new Set<number>();
    for (const e of doc.errors) {
      // The front matter starts on the file's second line (after '---').
      const line = (e.linePos?.[0]?.line ?? 0) + 1;
      if (seen.has(line)) continue;
      seen.add(line);
      const sourceLine = yamlText.split("\n")[line - 2] ?? "";
      problems.push({ severity: "error", line, message: yamlAdvice(e.code, e.message, sourceLine) });
    }
    return undefined;
  }
  const lineOf = (key: string) => {
    if (!isMap(doc.contents)) return 1;
    const pair = doc.contents.items.find((p) => String((p.key as { value?: unknown })?.value) === key);
    const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    return range ? lines.linePos(range[0]).line + 1 : 1;
  };
  const data: unknown = doc.toJS();
  // `volume: 2.10` is a YAML number, 2.1; the staff member wrote 2.10, so the source text wins.
  if (isMap(doc.contents) && data && typeof data === "object" && !Array.isArray(data)) {
    const pair = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === "volume");
    if (pair && isScalar(pair.value) && typeof pair.value.value === "number" && pair.value.source)
      (data as Record<string, unknown>).volume = pair.value.source;
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    problems.push({
      severity: "error",
      line: 1,
      message: "front matter must be a YAML mapping (key: value lines)",
    });
    return undefined;
  }
  for (const key of Object.keys(data)) {
    if (!knownKeys.has(key))
      problems.push({ severity: "warning", line: lineOf(key), message: `unknown front matter key "${key}"` });
  }
  const result = FrontMatter.safeParse(data);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const key = String(issue.path[0] ?? "");
    const missing = key !== "" && (data as Record<string, unknown>)[key] === undefined;
    problems.push({
      severity: "error",
      line: missing ? 1 : lineOf(key),
      message: missing ? `front matter: "${key}" is required` : `front matter: ${key}: ${issue.message}`,
    });
  }
  return undefined;
}

/**
 * YAML's own messages name a column and a grammar rule. Staff need the line and what to type:
 * the usual cause is an unquoted value with a colon, a quote, or a leading special character.
 */
function yamlAdvice(code: string, message: string, sourceLine: string): string {
  const key = /^\s*([A-Za-z_][\w-]*)\s*:/.exec(sourceLine)?.[1];
  const value = sourceLine.slice(sourceLine.indexOf(":") + 1).trim();
  const quoteIt = key
    ? `put the value in double quotes: ${key}: "${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`
    : "check the quoting and indentation of this line";
  if (code === "BLOCK_AS_IMPLICIT_KEY" || code === "MULTILINE_IMPLICIT_KEY")
    return `front matter: ${key ? `the ${key} ` : "this line "}contains ": ", which YAML reads as a nested key; ${quoteIt}`;
  if (code === "MISSING_CHAR" || code === "BAD_SCALAR_START" || code === "UNEXPECTED_TOKEN")
    return `front matter: YAML cannot read ${key ? `the ${key}` : "this line"} (${firstSentence(message)}); ${quoteIt}`;
  if (code === "DUPLICATE_KEY") return `front matter: ${key ? `"${key}"` : "a key"} is given twice; keep one`;
  return `front matter: YAML cannot read this line (${firstSentence(message)}); ${quoteIt}`;
}

function firstSentence(message: string): string {
  return (message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "").trim();
}

/** Volume numbers staff write in a subject ("Vol 2.7", "Volume 2.7", "Vol. 2.7"). */
const subjectVolume = /\bvol(?:ume)?\.?\s*(\d+(?:\.\d+)*)/i;

function volumeAgreement(
  front: { volume: string; subject: string },
  fileName: string | undefined,
  yamlText: string,
): Problem[] {
  const problems: Problem[] = [];
  const lineOf = (key: string) => yamlText.split("\n").findIndex((l) => l.startsWith(`${key}:`)) + 2 || 1;
  const named = subjectVolume.exec(front.subject)?.[1];
  if (named !== undefined && named !== front.volume)
    problems.push({
      severity: "warning",
      line: lineOf("subject"),
      message: `the subject says "Vol ${named}" but volume is ${front.volume}: which one is it?`,
    });
  const base = fileName
    ?.split(/[\\/]/)
    .pop()
    ?.replace(/\.(md|markdown)$/i, "");
  if (
    base &&
    /^vol[-_. ]?\d/i.test(base) &&
    slugForVolume(base.replace(/^vol[-_. ]?/i, "")) !== slugForVolume(front.volume)
  )
    problems.push({
      severity: "warning",
      line: lineOf("volume"),
      message: `the file is named ${base} but volume is ${front.volume} (it will be stored as ${slugForVolume(front.volume)})`,
    });
  return problems;
}

function readStories(body: string, firstLine: number, into: Converter): { intro: Block[]; stories: Story[] } {
  const intro: Block[] = [];
  const stories: Array<Story & { line: number }> = [];
  const used = new Map<string, number>();
  let line = firstLine;
  for (const token of lex(body)) {
    if (token.type === "heading" && token.depth <= 2) {
      const headline = plainText(inlines(token.tokens, line, into)).trim();
      if (token.depth === 1) {
        into.problems.push({
          severity: "warning",
          line,
          message: "a '# ' heading is ignored: the subject is the issue's title; stories start with '## '",
        });
      } else if (!headline) {
        into.problems.push({ severity: "error", line, message: "a story has no headline" });
      } else {
        const base = slugify(headline) || "story";
        const n = (used.get(base) ?? 0) + 1;
        used.set(base, n);
        stories.push({ id: n === 1 ? base : `${base}-${n}`, headline, body: [], line });
      }
    } else {
      const current = stories.at(-1);
      const converted = blocks([token], line, into);
      if (current) current.body.push(...converted);
      else intro.push(...converted);
    }
    line += countLines(token.raw);
  }
  for (const story of stories) {
    if (story.body.length === 0)
      into.problems.push({
        severity: "error",
        line: story.line,
        message: `story "${story.headline}" has no text`,
      });
  }
  return { intro, stories: stories.map(({ line: _line, ...story }) => story) };
}

export function slugify(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
}

function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.line - b.line);
}
