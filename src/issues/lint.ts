import { placeholders } from "../../emails/_components/placeholders.js";
import type { Newsletter } from "../newsletter.js";
import type { Problem } from "./markdown.js";
import { type ParsedIssue, parseIssue } from "./parse.js";
import { type Rendition, renderIssue } from "./render.js";
import { lowContrastPairs } from "./rendition-colours.js";

/** Gmail clips a message whose HTML is larger than this and hides the rest (and our footer). */
export const gmailClipBytes = 102 * 1024;

export function lintRendition(rendition: Rendition): Problem[] {
  const problems: Problem[] = [];
  const size = Buffer.byteLength(rendition.html);
  if (size > gmailClipBytes) {
    problems.push({
      severity: "error",
      line: 0,
      message: `HTML is ${(size / 1024).toFixed(1)} KB: Gmail clips messages over 102 KB, hiding the unsubscribe link`,
    });
  }
  if (!rendition.html.includes(placeholders.unsubscribeUrl)) {
    problems.push({ severity: "error", line: 0, message: "the HTML has no unsubscribe link" });
  }
  if (!rendition.text.includes(placeholders.unsubscribeUrl)) {
    problems.push({ severity: "error", line: 0, message: "the plain text has no unsubscribe link" });
  }
  // The issue cannot set a colour: these are the template's, for the Markdown elements this issue
  // uses, light and dark. A warning, so a theme change that leaves one unreadable shows before it is mailed.
  for (const pair of lowContrastPairs(rendition.html)) {
    problems.push({
      severity: "warning",
      line: 0,
      message: `text such as "${pair.sample}" is ${pair.foreground} on ${pair.background} in ${pair.scheme} mode: contrast ${pair.ratio.toFixed(2)}:1, under 4.5:1`,
    });
  }
  return problems;
}

export interface CheckedIssue {
  issue?: ParsedIssue;
  rendition?: Rendition;
  problems: Problem[];
}

/** Parses, renders and lints one issue: what `digest lint` and `digest render` both run. */
export async function checkIssue(
  source: string,
  newsletter: Newsletter,
  fileName?: string,
): Promise<CheckedIssue> {
  const { issue, problems } = parseIssue(source, fileName === undefined ? {} : { fileName });
  if (!issue) return { problems };
  const rendition = await renderIssue(issue, newsletter);
  return { issue, rendition, problems: [...problems, ...lintRendition(rendition)] };
}

export function formatProblem(file: string, p: Problem): string {
  return `${file}${p.line > 0 ? `:${p.line}` : ""}: ${p.severity}: ${p.message}`;
}
