import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pdfFileName } from "../../src/issues/edition.js";
import { type ParsedIssue, parseIssue } from "../../src/issues/parse.js";
import { renderIssuePdf } from "../../src/issues/pdf.js";
import { lineBreakParts } from "../../src/issues/pdf-fonts.js";
import { loadNewsletter } from "../../src/newsletter.js";
import { repoRoot } from "../helpers/cli.js";
import { endWords, paragraphsOf, pdfFonts, pdfInfo, pdfLayout, pdfText, squash } from "./pdf-reader.js";

const newsletter = loadNewsletter("newsletter.yaml", repoRoot);
const a4 = { ...newsletter, paper: "A4" as const };

function issueFrom(source: string): ParsedIssue {
  const { issue, problems } = parseIssue(source);
  if (!issue) throw new Error(`fixture does not parse: ${JSON.stringify(problems)}`);
  return issue;
}
const seed = issueFrom(readFileSync(join(repoRoot, "examples/issues/vol-2-6.md"), "utf8"));
const japanese = readFileSync(join(import.meta.dirname, "fixtures/vol-9-1.md"), "utf8");

/** The Japanese fixture plus one story long enough to run over several pages. */
function withLongStory(source: string): string {
  const paragraphs = Array.from(
    { length: 40 },
    (_, i) =>
      `Opening${i} of a long report on alliance logistics, ports, shipyards and the people who run them, ` +
      `repeated so that this story needs several pages of its own and ends with closing${i}.`,
  );
  return `${source}\n## A long story that runs over several pages\n\n${paragraphs.join("\n\n")}\n`;
}

/** Every headline, and every paragraph's first and last words, are in the PDF's text layer. */
function expectAllText(issue: ParsedIssue, text: string) {
  const flat = squash(text);
  for (const story of issue.stories) expect(flat).toContain(squash(story.headline));
  const paragraphs = paragraphsOf(issue);
  expect(paragraphs.length).toBeGreaterThan(0);
  for (const paragraph of paragraphs) {
    const [first, last] = endWords(paragraph);
    expect(flat, `first word of "${paragraph.slice(0, 40)}…"`).toContain(first);
    expect(flat, `last word of "…${paragraph.slice(-40)}"`).toContain(last);
  }
}

/** Each entry of the headline list is a link annotation that jumps to the page its story starts on. */
function expectHeadlineLinks(issue: ParsedIssue, pdf: Buffer) {
  const { links, pages } = pdfLayout(pdf);
  for (const story of issue.stories) {
    const entry = links.find((l) => l.page === 1 && squash(l.text) === squash(story.headline));
    expect(entry, `headline-list link for "${story.headline}"`).toBeDefined();
    // The headline's first appearance is in the list; its second starts the story.
    let seen = 0;
    const storyPage = pages.findIndex((lines) => {
      seen += squash(lines.join("")).split(squash(story.headline)).length - 1;
      return seen >= 2;
    });
    expect(storyPage).toBeGreaterThanOrEqual(0);
    expect(entry?.href).toBe(`#${storyPage + 1}`);
  }
}

describe("the PDF edition", () => {
  it("of the seed issue carries every headline and paragraph as real text on Letter paper, under 1 MB", async () => {
    const pdf = await renderIssuePdf(seed, newsletter);
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    expect(pdf.length).toBeLessThan(1024 * 1024);
    expectAllText(seed, pdfText(pdf));
    const info = pdfInfo(pdf);
    expect(info["Page size"]).toMatch(/^612 x 792 pts \(letter\)/);
    expect(info.Title).toBe(seed.subject);
  });

  it("has a masthead with the name, volume and date, and the issue's name and page number on every page", async () => {
    const pdf = await renderIssuePdf(seed, newsletter);
    const { pages } = pdfLayout(pdf);
    const first = squash(pages[0]?.join("\n") ?? "");
    expect(first).toContain(squash(newsletter.name));
    expect(first).toContain("VOL2.6");
    expect(first).toContain("April3,2023");
    expect(pages.length).toBeGreaterThan(1);
    pages.forEach((lines, i) => {
      expect(lines).toContain(`${newsletter.name} · Vol 2.6`);
      expect(lines).toContain(`Page ${i + 1} of ${pages.length}`);
    });
  });

  it("links each headline in its list to the page where the story starts", async () => {
    expectHeadlineLinks(seed, await renderIssuePdf(seed, newsletter));
  });

  it("ends with the publisher's blurb, postal address and contact, the contact a mailto link", async () => {
    const pdf = await renderIssuePdf(seed, newsletter);
    const text = squash(pdfText(pdf));
    expect(text).toContain(squash(newsletter.postalAddress));
    expect(text).toContain(squash(newsletter.footer));
    expect(pdfLayout(pdf).links.map((l) => l.href)).toContain(`mailto:${newsletter.contact}`);
  });

  it("embeds its fonts as subsets, so it is small and looks the same everywhere", async () => {
    const fonts = pdfFonts(await renderIssuePdf(seed, newsletter));
    expect(fonts.length).toBeGreaterThan(0);
    for (const font of fonts) {
      expect(font).toMatchObject({ embedded: true, subset: true });
      expect(font.name).toMatch(/^[A-Z]{6}\+NotoSansJP/);
    }
  });

  it("shows Japanese, `<` and `&` as written, makes every story link an annotation, and breaks a long story over pages", async () => {
    const issue = issueFrom(withLongStory(japanese));
    const pdf = await renderIssuePdf(issue, newsletter);
    const text = pdfText(pdf);
    expectAllText(issue, text);
    const flat = squash(text);
    expect(flat).toContain("日米同盟は、インド太平洋地域の平和と安定の礎である。");
    expect(flat).toContain(squash("「自由で開かれたインド太平洋」"));
    expect(flat).toContain(squash("R&D budgets: <b>5%</b> < 10% & rising"));
    expect(flat).toContain(squash("<script>alert(1)</script> stays text"));
    // No hyphen was added inside Japanese text when it wrapped.
    expect(text).not.toMatch(/[\u3040-\u30ff\u4e00-\u9fff]-\n/);
    const { links, pages } = pdfLayout(pdf);
    const hrefs = links.map((l) => l.href);
    for (const href of [
      "https://www.mofa.go.jp/na/st/page1e_000001.html",
      "https://example.org/facts?a=1&b=2",
      "https://www.meti.go.jp/english/",
    ]) {
      expect(hrefs).toContain(href);
    }
    expect(pages.length).toBeGreaterThanOrEqual(4);
    expectHeadlineLinks(issue, pdf);
    expect(pdf.length).toBeLessThan(1024 * 1024);
  });

  it("is printed on A4 when the newsletter file says `paper: A4`", async () => {
    const pdf = await renderIssuePdf(issueFrom(japanese), a4);
    expect(pdfInfo(pdf)["Page size"]).toMatch(/^595\.2\d x 841\.8\d pts \(A4\)/);
  });

  it("is the same bytes every time the same issue is rendered, so its ETag is stable", async () => {
    const [one, two] = await Promise.all([
      renderIssuePdf(seed, newsletter),
      renderIssuePdf(seed, newsletter),
    ]);
    expect(one.equals(two)).toBe(true);
  });
});

describe("line breaks in Japanese text", () => {
  it("may fall between any two ideographs or kana, never before closing punctuation or after an opening bracket", () => {
    expect(lineBreakParts("日米同盟。")).toEqual(["日", "", "米", "", "同", "", "盟。"]);
    expect(lineBreakParts("「自由」")).toEqual(["「自", "", "由」"]);
    expect(lineBreakParts("半導体(semiconductors)")).toEqual([
      "半",
      "",
      "導",
      "",
      "体",
      "",
      "(semiconductors)",
    ]);
  });

  it("leave Latin words whole: no hyphenation, so every word is found as written", () => {
    expect(lineBreakParts("information-sharing")).toEqual(["information-sharing"]);
  });
});

describe("the download's file name", () => {
  it("reads like the publication's own, in ASCII", () => {
    expect(pdfFileName("US-Japan Alliance Digest", "2.6")).toBe("US-Japan-Alliance-Digest-Vol-2.6.pdf");
    expect(pdfFileName('Café "Quotes" 日本', "3")).toBe("Cafe-Quotes-Vol-3.pdf");
    expect(pdfFileName("日本", "")).toBe("Vol.pdf");
  });
});
