import { describe, expect, it } from "vitest";
import { checkIssue, lintRendition } from "../../src/issues/lint.js";
import { parseIssue } from "../../src/issues/parse.js";
import { textColourPairs } from "../../src/issues/rendition-colours.js";
import { loadNewsletter } from "../../src/newsletter.js";

const newsletter = loadNewsletter("newsletter.yaml");
const front = '---\nvolume: 3\ndate: 2024-01-05\nsubject: "Vol 3"\n---\n';
/** The story's text is on line 9 of the file. */
const withText = (text: string) => `${front}\n## A story\n\n${text}\n`;
const warningsOf = (source: string) => {
  const { issue, problems } = parseIssue(source);
  expect(issue, "warnings alone never refuse an issue").toBeDefined();
  return problems.filter((p) => p.severity === "warning").map((p) => `${p.line}: ${p.message}`);
};

describe("digest lint on link text", () => {
  it.each([
    "click here",
    "Here",
    "here.",
    "Read more",
    "read more…",
    "link",
    "this link",
    "More",
    "こちら",
    "詳しくはこちら",
  ])('warns that the link text "%s" does not say where it leads', (text) => {
    expect(warningsOf(withText(`The statement is out: [${text}](https://example.org/statement).`))).toEqual([
      `9: link text "${text}" does not say where it leads (screen readers list a mail's links by their text alone); use words that name the destination`,
    ]);
  });

  it.each([
    ["a bare https address", "See https://example.org/statement for it."],
    ["an autolink", "See <https://example.org/statement> for it."],
    ["a www. address", "See www.example.org/statement for it."],
    [
      "the address as the text of its own link",
      "See [https://example.org/statement](https://example.org/statement).",
    ],
  ])("warns about %s as link text", (_, text) => {
    const warnings = warningsOf(withText(text));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^9: link text ".*example\.org\/statement" is a bare URL, which screen readers spell out/,
    );
  });

  it("says nothing about links named for where they lead, a mail address, or a word that only contains 'here'", () => {
    const text = [
      "The [ministry's statement on the deal](https://example.org/a) is out,",
      "[read more about the coalition](https://example.org/b), write to egulum@spfusa.org",
      "or see [where we stand](https://example.org/c) and [Here and Now](https://example.org/d).",
    ].join(" ");
    expect(warningsOf(withText(text))).toEqual([]);
  });

  it("keeps an image without alt text an error", () => {
    const { problems } = parseIssue(withText("![](https://example.org/a.png)"));
    expect(problems).toContainEqual({
      severity: "error",
      line: 9,
      message: 'image "https://example.org/a.png" has no alt text',
    });
  });
});

/** Every Markdown element the template styles, so each one's colours are read from the rendition. */
const everyElement = `${front}
Intro with a [link to the alliance page](https://example.org/alliance).

## Every block

Text with *emphasis*, **strong**, ~~struck~~, \`inline code\` and a [report on supply chains](https://example.org/r).

### A subheading

- an item

> A quote with a [source for the quote](https://example.org/s).

\`\`\`
a code block
\`\`\`

---
`;

describe("digest lint on colour contrast", () => {
  it("finds every text colour pair of an issue with every element at 4.5:1 or more, in light and in dark mode", async () => {
    const { rendition, problems } = await checkIssue(everyElement, newsletter);
    expect(problems).toEqual([]);
    const pairs = textColourPairs(rendition!.html);
    // The pairs the reader sees (inline code among them), so the check above has something to check.
    expect(pairs.map((p) => `${p.scheme} ${p.foreground} on ${p.background}`)).toEqual(
      expect.arrayContaining([
        "light #1f2933 on #ffffff",
        "dark #e4e7eb on #1a2128",
        "light #1f2933 on #eef0f3",
        "dark #e4e7eb on #27313b",
        "light #9b1c31 on #ffffff",
        "dark #f08a9b on #1a2128",
      ]),
    );
    for (const pair of pairs)
      expect(pair.ratio, `${pair.scheme} ${pair.foreground} on ${pair.background}`).toBeGreaterThanOrEqual(
        4.5,
      );
  });

  it("warns, naming the colours and the mode, about text under 4.5:1 in light mode and in dark mode", () => {
    // Grey text on white (fine on the dark page), and code whose light box keeps the dark-mode text colour.
    const html = `<!DOCTYPE html><html lang="en"><head><meta name="color-scheme" content="light dark"/>
<style>@media (prefers-color-scheme: dark) {
  .dg-page { background-color: #1a2128 !important; }
  .dg-ink { color: #e4e7eb !important; }
  .dg-link { color: #f08a9b !important; }
}</style></head>
<body class="dg-page" style="background-color:#ffffff"><p style="color:#999999">Faint footer</p>
<p class="dg-ink" style="color:#1f2933">Run <code style="background-color:#eef0f3">digest lint</code> first.</p>
<div style="display:none;color:#fefefe">hidden preheader</div>
<a class="dg-link" style="color:#9b1c31" href="{{digest_unsubscribe_url}}">Unsubscribe</a></body></html>`;
    const problems = lintRendition({ html, text: "{{digest_unsubscribe_url}}" });
    expect(problems.map((p) => `${p.severity} ${p.message}`)).toEqual([
      'warning text such as "Faint footer" is #999999 on #ffffff in light mode: contrast 2.85:1, under 4.5:1',
      'warning text such as "digest lint" is #e4e7eb on #eef0f3 in dark mode: contrast 1.09:1, under 4.5:1',
    ]);
  });

  // The first scanner's expression backtracked here: over three minutes at 26 attributes on this machine.
  it("reads a tag that never closes, attribute after attribute, in one pass", () => {
    const hostile = `<p ${'a="1" '.repeat(26)}`;
    const started = performance.now();
    const pairs = textColourPairs(hostile);
    expect(performance.now() - started).toBeLessThan(1000);
    // Shown as text, as a browser shows a tag that never closes: black on white.
    expect(pairs.map((p) => `${p.foreground} on ${p.background}`)).toEqual([
      "#000000 on #ffffff",
      "#000000 on #ffffff",
    ]);
  });

  it("reads light colours only, as a client without dark mode shows them, when the mail does not offer dark mode", () => {
    const html = `<html><head><style>@media (prefers-color-scheme: dark) { .x { color: #eeeeee !important; } }</style></head>
<body><p class="x" style="color:#1f2933">Readable</p></body></html>`;
    expect(textColourPairs(html).map((p) => `${p.scheme} ${p.foreground} on ${p.background}`)).toEqual([
      "light #1f2933 on #ffffff",
      "dark #1f2933 on #ffffff",
    ]);
  });
});
