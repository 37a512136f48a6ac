import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * No reader-facing word is written outside the catalogue (src/i18n/locales): this reads the source
 * of every reader page and transactional mail and lists each English-looking text in it. A new
 * English sentence in one of these files fails here; the fix is a catalogue key, or, for a text no
 * reader sees as prose (a header value, a log line, an error detail from our code), a line in the
 * allow-list below saying why.
 */
const root = join(import.meta.dirname, "..", "..");
const readerSources = [
  "src/http/pages.ts",
  "src/http/confirm.ts",
  "src/http/public.ts",
  "src/http/language.ts",
  "src/http/search-page.ts",
  "src/http/search-form.ts",
  "src/issues/transactional-content.ts",
  "src/sending/transactional-mail.ts",
  "emails/confirm.tsx",
  "emails/welcome.tsx",
  "emails/goodbye.tsx",
  "emails/unsubscribe-link.tsx",
  "emails/_components/layout.tsx",
];

/** Texts that may stay as they are, each with its reason. */
const allowed = new Map<string, string>([
  // Error details from our own code: shown in small print under the reader's own text, marked lang="en".
  ["too many requests from your address; try again later", "error detail"],
  ["unknown action", "error detail"],
  ["no such issue", "error detail"],
  ["language must be one of", "error detail"],
  ["tracking must be on or off", "error detail"],
  ["too many searches from your address; try again later", "error detail"],
  // Log lines, read by the people who run the service.
  ["goodbye mail not queued", "log line"],
  // Header values.
  [
    "default-src 'none'; img-src https: http:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "CSP",
  ],
  ["Vary", "header name"],
  ["light dark", "the color-scheme meta value"],
  // The issue email's own footer: an issue is in whatever language its staff wrote it.
  ["View in browser", "issue footer"],
  ["Manage your subscription", "issue footer"],
  ["Unsubscribe", "issue footer"],
  // Errors thrown to the worker's log and job record, never shown to a reader.
  ["the recipient is not a bare address", "internal error"],
  ["SMTP refused the", "internal error"],
  ["SMTP did not take the", "internal error"],
  // The sample masthead for react-email's preview, never sent.
  ["US-Japan Alliance Digest", "sample data"],
  ["A bi-weekly summary of bilateral and related developments", "sample data"],
  ["Sasakawa USA", "sample data"],
  ["Sasakawa USA, 1819 L Street NW, Suite 300, Washington, DC 20036, USA", "sample data"],
  [
    "“US-Japan Alliance Digest” is a bi-weekly summary of bilateral and related developments compiled by Sasakawa USA’s “US-Japan NEXT Alliance Initiative.”",
    "sample data",
  ],
  ["Twitter", "sample data"],
]);

/** Two words of letters, or one capitalised word: prose, as opposed to a key, a path or a tag. */
const prose = /[A-Za-z]{2,}[^\S\n]+[A-Za-z]{2,}|^[^\S\n]*[A-Z][a-z]+[^\S\n]*$/;
/** Words in text a page or mail shows as it is (markup text, JSX text). */
const words = /[A-Za-z]{2,}/;
/** Values of these JSX attributes are read as text by people or their screen readers. */
const textAttributes = new Set(["alt", "title", "aria-label", "placeholder", "preview", "kicker", "label"]);

/** The allow-list's entries met so far: one nobody meets any more is stale. */
const used = new Set<string>();

interface Found {
  file: string;
  line: number;
  text: string;
}

function englishIn(file: string): Found[] {
  return englishFrom(file, readFileSync(join(root, file), "utf8"));
}

function englishFrom(file: string, source: string): Found[] {
  const tree = ts.createSourceFile(
    file,
    source,
    ts.ScriptTarget.Latest,
    true,
    file.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
  const found: Found[] = [];
  const report = (node: ts.Node, text: string) => {
    const clean = text.replace(/\s+/g, " ").trim();
    if (allowed.has(clean)) used.add(clean);
    if (clean === "" || allowed.has(clean)) return;
    found.push({ file, line: tree.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: clean });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node) || ts.isTypeNode(node)) return;
    // react-email's sample data (`X.PreviewProps = ...`) is never sent.
    if (ts.isBinaryExpression(node) && node.left.getText(tree).endsWith(".PreviewProps")) return;
    // Style sheets and the confirm page's script are code, not text.
    if (ts.isVariableDeclaration(node) && /style|css|script/i.test(node.name.getText(tree))) return;
    if (ts.isTaggedTemplateExpression(node) && node.tag.getText(tree) === "html") {
      // The markup's text: its pieces with a gap for each value, tags and entities removed.
      const pieces = ts.isNoSubstitutionTemplateLiteral(node.template)
        ? [node.template.text]
        : [node.template.head.text, ...node.template.templateSpans.map((span) => span.literal.text)];
      const text = pieces
        .join("  ")
        .replace(/<[^>]*>/g, " ")
        .replace(/&[a-z]+;/g, " ");
      for (const part of text.split(/\s{2,}|\n/)) if (words.test(part)) report(node, part);
      if (!ts.isNoSubstitutionTemplateLiteral(node.template))
        for (const span of node.template.templateSpans) visit(span.expression);
      return;
    }
    if (ts.isJsxText(node)) {
      if (words.test(node.text)) report(node, node.text);
      return;
    }
    if (ts.isJsxAttribute(node) && textAttributes.has(node.name.getText(tree)) && node.initializer) {
      if (ts.isStringLiteral(node.initializer)) {
        if (words.test(node.initializer.text)) report(node, node.initializer.text);
        return;
      }
    }
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      if (prose.test(node.text)) report(node, node.text);
      return;
    }
    if (ts.isTemplateExpression(node)) {
      for (const piece of [node.head, ...node.templateSpans.map((span) => span.literal)])
        if (prose.test(piece.text)) report(piece, piece.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return found;
}

describe("reader pages and transactional mail", () => {
  it.each(readerSources)("%s holds no English text outside the catalogue", (file) => {
    expect(englishIn(file)).toEqual([]);
  });

  it("keeps no allow-list entry that no file needs any more", () => {
    for (const file of readerSources) englishIn(file);
    expect([...allowed.keys()].filter((text) => !used.has(text))).toEqual([]);
  });

  it("notice an English sentence added to a page, its markup or a plain string", () => {
    const page = `import { html } from "hono/html";
export const thanks = (name: string) => html\`<p class="note">Thanks for subscribing, \${name}!</p>\`;
export const saved = "Your name is saved.";
export const heading = "Archive";
export const key = "manage.title";`;
    expect(englishFrom("probe.ts", page).map((f) => f.text)).toEqual([
      "Thanks for subscribing,",
      "Your name is saved.",
      "Archive",
    ]);
  });

  it("notice English written as JSX text or a text attribute in a mail", () => {
    const mail = `export default function M({ text }: { text: string }) {
  return <Layout kicker="Welcome aboard"><Text>{text} Enjoy the read.</Text><img alt="Logo" /></Layout>;
}`;
    expect(englishFrom("probe.tsx", mail).map((f) => f.text)).toEqual([
      "Welcome aboard",
      "Enjoy the read.",
      "Logo",
    ]);
  });
});
