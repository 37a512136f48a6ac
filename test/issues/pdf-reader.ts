import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Block, Inline } from "../../emails/_components/content.js";
import type { ParsedIssue } from "../../src/issues/parse.js";

/** Reads a PDF back the way a reader's tools do: poppler-utils, from Debian. */
const work = mkdtempSync(join(tmpdir(), "digest-pdf-"));
let n = 0;

function fileOf(pdf: Buffer): string {
  n += 1;
  const file = join(work, `edition-${n}.pdf`);
  writeFileSync(file, pdf);
  return file;
}

const run = (command: string, args: string[]) => execFileSync(command, args, { encoding: "utf8" });

export const pdfText = (pdf: Buffer) => run("pdftotext", ["-enc", "UTF-8", fileOf(pdf), "-"]);

export function pdfInfo(pdf: Buffer): Record<string, string> {
  const info: Record<string, string> = {};
  for (const line of run("pdfinfo", [fileOf(pdf)]).split("\n")) {
    const match = /^([^:]+):\s*(.*)$/.exec(line);
    if (match?.[1] && match[2] !== undefined) info[match[1]] = match[2];
  }
  return info;
}

/** The fonts table of `pdffonts`: name, embedded, subset. */
export function pdfFonts(pdf: Buffer) {
  return run("pdffonts", [fileOf(pdf)])
    .split("\n")
    .slice(2)
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const cols = line.trim().split(/\s+/);
      // name ... emb sub uni object ID: the flags are the 5th to 3rd columns from the end.
      return { name: cols[0] ?? "", embedded: cols.at(-5) === "yes", subset: cols.at(-4) === "yes" };
    });
}

export interface PdfLink {
  page: number;
  /** A URI, or `#<page>` for a jump inside the document. */
  href: string;
  text: string;
}

const unescapeXml = (s: string) =>
  s
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");

/**
 * The link annotations of a PDF and the text lines of each page, as `pdftohtml -xml` reports them
 * (it reads the annotations themselves: a link that is only blue text is not one).
 */
export function pdfLayout(pdf: Buffer): { links: PdfLink[]; pages: string[][] } {
  const xml = run("pdftohtml", ["-xml", "-i", "-q", "-stdout", fileOf(pdf)]);
  const links: PdfLink[] = [];
  const pages: string[][] = [];
  for (const [, number, body] of xml.matchAll(/<page number="(\d+)"[^>]*>([\s\S]*?)<\/page>/g)) {
    const page = Number(number);
    const lines: string[] = [];
    for (const [, inner] of (body ?? "").matchAll(/<text [^>]*>([\s\S]*?)<\/text>/g)) {
      lines.push(unescapeXml(inner ?? ""));
      for (const [, href, text] of (inner ?? "").matchAll(/<a href="([^"]*)">([\s\S]*?)<\/a>/g)) {
        const internal = /^[^#]*\.html#(\d+)$/.exec(href ?? "");
        links.push({
          page,
          href: internal ? `#${internal[1]}` : unescapeXml(href ?? ""),
          text: unescapeXml(text ?? ""),
        });
      }
    }
    pages.push(lines);
  }
  return { links, pages };
}

function inlineText(nodes: Inline[]): string {
  return nodes
    .map((node) => {
      switch (node.kind) {
        case "text":
        case "code":
          return node.text;
        case "break":
          return " ";
        case "image":
          return `[${node.alt}]`;
        default:
          return inlineText(node.children);
      }
    })
    .join("");
}

/** The text of every paragraph of an issue (intro, stories, lists and quotes), as written. */
export function paragraphsOf(issue: ParsedIssue): string[] {
  const out: string[] = [];
  const walk = (blocks: Block[]) => {
    for (const block of blocks) {
      if (block.kind === "paragraph") out.push(inlineText(block.children));
      else if (block.kind === "list") for (const item of block.items) walk(item);
      else if (block.kind === "quote") walk(block.children);
    }
  };
  walk(issue.intro);
  for (const story of issue.stories) walk(story.body);
  return out;
}

/** A paragraph's first and last words, without the punctuation around them. */
export function endWords(paragraph: string): [string, string] {
  const words = paragraph.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w));
  const bare = (w: string) => w.replace(/^[^\p{L}\p{N}<&]+|[^\p{L}\p{N}>&%]+$/gu, "");
  return [bare(words[0] ?? ""), bare(words.at(-1) ?? "")];
}

/** Text with all white space removed, so a phrase broken across lines still matches. */
export const squash = (s: string) => s.replace(/\s+/g, "");
