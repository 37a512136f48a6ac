import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { marker } from "../../src/issues/search-snippet.js";
import { documentText, searchQuery } from "../../src/issues/search-terms.js";

const textOf = (html: string) =>
  html
    .replace(/<\/?mark>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");

describe("search terms", () => {
  it("write a run of Japanese as its overlapping bigrams, the run's last character once more at the end", () => {
    expect(documentText("日米同盟は強い").replace(/\s+/g, " ").trim()).toBe(
      "日米 米同 同盟 盟は は強 強い い",
    );
  });

  it("keep Latin words, and turn Japanese punctuation and curly quotes into spaces", () => {
    expect(documentText("“Trade” deal、日米。").replace(/\s+/g, " ").trim()).toBe("Trade deal 日米 米");
    expect(documentText("ＧＤＰ and ｶﾀｶﾅ").replace(/\s+/g, " ").trim()).toBe("GDP and カタ タカ カナ ナ");
  });

  it("make each Japanese run of a query a phrase of its bigrams, inside the reader's quotes or not", () => {
    const websearch = (typed: string) => searchQuery(typed).websearch.replace(/\s+/g, " ");
    expect(websearch("日米同盟 sanctions")).toBe('"日米 米同 同盟" sanctions');
    expect(websearch('"日米 relations" -中国')).toBe('" 日米 relations" -"中国"');
    expect(websearch("「日米同盟」")).toBe('" 日米 米同 同盟 "');
  });

  it("search a single Japanese character as a prefix, and exclude it after a minus", () => {
    expect(searchQuery("核 -米 deal")).toMatchObject({
      websearch: "deal",
      prefixes: [
        { char: "核", negated: false },
        { char: "米", negated: true },
      ],
    });
  });

  it("mark what the reader asked for, not excluded words or stop words", () => {
    expect(searchQuery('the "critical minerals" -China 日米').marks).toEqual([
      "critical",
      "minerals",
      "日米",
    ]);
  });
});

describe("marking results", () => {
  it("marks English words by their root and Japanese terms where they stand", () => {
    const m = marker(["sanctions", "日米"]);
    expect(m.highlight("New sanction on chips; 日米同盟")).toBe(
      "New <mark>sanction</mark> on chips; <mark>日米</mark>同盟",
    );
  });

  it("cuts a snippet around the first match, with ellipses where text was left out", () => {
    const text = `${"Early text. ".repeat(30)}The drone flew. ${"Late text. ".repeat(30)}`;
    const html = marker(["drone"]).snippet(text, 80);
    expect(html).toMatch(/^… .*<mark>drone<\/mark> flew\..* …$/);
    expect(textOf(html).length).toBeLessThanOrEqual(80 + 4);
  });

  it("never lets text or query become markup: only <mark> is added, and the text comes back whole", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.array(fc.string(), { maxLength: 4 }), (text, marks) => {
        const html = marker(marks).highlight(text);
        expect(html.replace(/<\/?mark>/g, "")).not.toMatch(/[<>"']/);
        expect(textOf(html)).toBe(text);
        const cut = marker(marks).snippet(text);
        expect(cut.replace(/<\/?mark>/g, "")).not.toMatch(/[<>"']/);
      }),
      { numRuns: 500 },
    );
  });
});
