import { Lexer, type Token, type Tokens } from "marked";
import type { Block, Inline } from "../../emails/_components/content.js";
import { vagueLinkText } from "./link-text.js";

/**
 * Markdown tokens to the templates' content tree. Text stays text: raw HTML in the source becomes
 * visible text (and a lint warning), never markup, and every link is checked.
 */
export interface Problem {
  severity: "error" | "warning";
  line: number;
  message: string;
}

export interface Converter {
  problems: Problem[];
  /** In-message anchors that links point at, checked once all story ids are known. */
  fragments: Array<{ id: string; line: number }>;
}

const allowedScheme = /^(https?:|mailto:)/i;

export function checkHref(href: string, line: number, into: Converter, what = "link"): string | undefined {
  const trimmed = href.trim();
  if (trimmed.startsWith("#") && trimmed.length > 1) {
    into.fragments.push({ id: decodeURIComponent(trimmed.slice(1)), line });
    return trimmed;
  }
  if (allowedScheme.test(trimmed)) {
    if (/^https?:/i.test(trimmed)) {
      try {
        new URL(trimmed);
      } catch {
        into.problems.push({ severity: "error", line, message: `${what} "${trimmed}" is not a valid URL` });
        return undefined;
      }
    }
    return trimmed;
  }
  into.problems.push({
    severity: "error",
    line,
    message: `${what} "${trimmed}" must be an absolute https:, http: or mailto: URL, or an in-message #fragment`,
  });
  return undefined;
}

function warnHtml(raw: string, line: number, into: Converter) {
  into.problems.push({
    severity: "warning",
    line,
    message: `raw HTML ${JSON.stringify(raw.trim().slice(0, 40))} is shown as text, not as markup`,
  });
}

export function inlines(tokens: Token[] | undefined, line: number, into: Converter): Inline[] {
  const out: Inline[] = [];
  for (const token of tokens ?? []) {
    switch (token.type) {
      case "text": {
        const t = token as Tokens.Text;
        if (t.tokens && t.tokens.length > 0) out.push(...inlines(t.tokens, line, into));
        else out.push({ kind: "text", text: t.text });
        break;
      }
      case "escape":
        out.push({ kind: "text", text: (token as Tokens.Escape).text });
        break;
      case "strong":
      case "em":
      case "del":
        out.push({ kind: token.type, children: inlines((token as Tokens.Strong).tokens, line, into) });
        break;
      case "codespan":
        out.push({ kind: "code", text: (token as Tokens.Codespan).text });
        break;
      case "br":
        out.push({ kind: "break" });
        break;
      case "link": {
        const t = token as Tokens.Link;
        const children = inlines(t.tokens, line, into);
        const href = checkHref(t.href, line, into);
        const vague = vagueLinkText(plainText(children));
        if (vague) into.problems.push({ severity: "warning", line, message: vague });
        if (href) out.push({ kind: "link", href, children });
        else out.push(...children);
        break;
      }
      case "image": {
        const t = token as Tokens.Image;
        const src = checkHref(t.href, line, into, "image");
        if (!t.text.trim())
          into.problems.push({ severity: "error", line, message: `image "${t.href}" has no alt text` });
        if (src) out.push({ kind: "image", src, alt: t.text });
        break;
      }
      case "html":
        warnHtml(token.raw, line, into);
        out.push({ kind: "text", text: token.raw });
        break;
      default:
        out.push({ kind: "text", text: token.raw });
    }
  }
  return out;
}

export function blocks(tokens: Token[], firstLine: number, into: Converter): Block[] {
  const out: Block[] = [];
  let line = firstLine;
  for (const token of tokens) {
    const block = toBlock(token, line, into);
    if (block) out.push(block);
    line += countLines(token.raw);
  }
  return out;
}

function toBlock(token: Token, line: number, into: Converter): Block | undefined {
  switch (token.type) {
    case "paragraph":
      return { kind: "paragraph", children: inlines((token as Tokens.Paragraph).tokens, line, into) };
    case "text":
      return { kind: "paragraph", children: inlines([token], line, into) };
    case "heading":
      return { kind: "heading", children: inlines((token as Tokens.Heading).tokens, line, into) };
    case "list": {
      const t = token as Tokens.List;
      return {
        kind: "list",
        ordered: t.ordered,
        items: t.items.map((item) => blocks(item.tokens, line, into)),
      };
    }
    case "blockquote":
      return { kind: "quote", children: blocks((token as Tokens.Blockquote).tokens, line, into) };
    case "code":
      return { kind: "code", text: (token as Tokens.Code).text };
    case "hr":
      return { kind: "rule" };
    case "html":
      warnHtml(token.raw, line, into);
      return { kind: "paragraph", children: [{ kind: "text", text: token.raw.trim() }] };
    case "space":
      return undefined;
    case "table":
      into.problems.push({ severity: "warning", line, message: "tables are shown as plain text in mail" });
      return { kind: "code", text: token.raw.trimEnd() };
    default:
      return { kind: "paragraph", children: [{ kind: "text", text: token.raw.trim() }] };
  }
}

export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

export function plainText(nodes: Inline[]): string {
  return nodes
    .map((n) => {
      if (n.kind === "text" || n.kind === "code") return n.text;
      if (n.kind === "break") return " ";
      if (n.kind === "image") return n.alt;
      return plainText(n.children);
    })
    .join("");
}

export function lex(markdown: string): Token[] {
  return new Lexer({ gfm: true }).lex(markdown);
}
