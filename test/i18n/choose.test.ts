import { describe, expect, it } from "vitest";
import {
  chooseLanguage,
  mailLanguage,
  matchLanguage,
  parseAcceptLanguage,
  readerLanguage,
} from "../../src/i18n/choose.js";
import { scriptLanguage } from "../../src/i18n/script.js";

describe("Accept-Language", () => {
  it("orders ranges by weight, and equal weights as written", () => {
    expect(parseAcceptLanguage("en;q=0.5, ja-JP, fr;q=0.5, de;q=0.9")).toEqual([
      { tag: "ja-jp", q: 1 },
      { tag: "de", q: 0.9 },
      { tag: "en", q: 0.5 },
      { tag: "fr", q: 0.5 },
    ]);
  });

  it("reads weights written with spaces and capitals, and drops entries whose weight is not a qvalue", () => {
    expect(parseAcceptLanguage("ja ; Q = 0.8, en;q=2, fr;q=abc, de;q=0.1234, es;q=1.000")).toEqual([
      { tag: "es", q: 1 },
      { tag: "ja", q: 0.8 },
    ]);
  });

  it("drops what is not a language range, and reads nothing from an empty or missing header", () => {
    expect(parseAcceptLanguage("<script>, ja_JP, toolongsubtag-x, , en")).toEqual([{ tag: "en", q: 1 }]);
    expect(parseAcceptLanguage("")).toEqual([]);
    expect(parseAcceptLanguage(undefined)).toEqual([]);
  });

  it("reads no further than a real browser's header could reach", () => {
    const huge = `${"xx;q=0.1,".repeat(10_000)}ja`;
    expect(parseAcceptLanguage(huge).some((p) => p.tag === "ja")).toBe(false);
  });

  it("matches a configured language by the primary subtag, in the reader's order", () => {
    expect(matchLanguage(parseAcceptLanguage("ja-JP,ja;q=0.9,en-US;q=0.8"), ["en", "ja"])).toBe("ja");
    expect(matchLanguage(parseAcceptLanguage("fr-CA, en-GB;q=0.7, ja;q=0.6"), ["ja", "en"])).toBe("en");
    expect(matchLanguage(parseAcceptLanguage("fr, de"), ["en", "ja"])).toBeUndefined();
  });

  it("takes * as the first configured language the reader did not refuse with q=0", () => {
    expect(matchLanguage(parseAcceptLanguage("fr, *;q=0.5"), ["en", "ja"])).toBe("en");
    expect(matchLanguage(parseAcceptLanguage("en;q=0, *"), ["en", "ja"])).toBe("ja");
    expect(matchLanguage(parseAcceptLanguage("ja;q=0, en;q=0"), ["en", "ja"])).toBeUndefined();
  });
});

describe("a reader's language", () => {
  it("is the form's choice when it is configured, else the browser's, else the first configured", () => {
    expect(chooseLanguage(["en", "ja"], { chosen: "ja", acceptLanguage: "en" })).toBe("ja");
    expect(chooseLanguage(["en", "ja"], { chosen: "fr", acceptLanguage: "ja" })).toBe("ja");
    expect(chooseLanguage(["en"], { chosen: "ja", acceptLanguage: "ja" })).toBe("en");
    expect(chooseLanguage(["ja", "en"], {})).toBe("ja");
  });

  it("falls back to the default once its stored language is no longer configured", () => {
    expect(readerLanguage("ja", ["en", "ja"])).toBe("ja");
    expect(readerLanguage("ja", ["en"])).toBe("en");
    expect(readerLanguage(null, ["ja", "en"])).toBe("ja");
  });

  it("comes from a mailed subscribe's Content-Language, then Accept-Language, then its script", () => {
    const both = ["en", "ja"] as const;
    expect(mailLanguage(both, { contentLanguage: "ja-JP", acceptLanguage: "en", script: "en" })).toBe("ja");
    expect(mailLanguage(both, { contentLanguage: "fr", acceptLanguage: "ja;q=0.5, fr", script: "en" })).toBe(
      "ja",
    );
    expect(mailLanguage(both, { script: "ja" })).toBe("ja");
    expect(mailLanguage(["ja", "en"], { script: "en" })).toBe("en");
    expect(mailLanguage(["en"], { contentLanguage: "ja", script: "ja" })).toBe("en");
    expect(mailLanguage(["ja", "en"], {})).toBe("ja");
  });
});

describe("the script of a mail's body", () => {
  it("reads mostly kanji and kana as Japanese", () => {
    expect(scriptLanguage("subscribe\n\n購読を希望します。よろしくお願いいたします。\n山田")).toBe("ja");
    expect(scriptLanguage("カタカナだけ")).toBe("ja");
    expect(scriptLanguage("日米同盟")).toBe("ja");
  });

  it("reads mostly Latin letters as English, a Japanese signature included", () => {
    expect(scriptLanguage("Please add me to the list, thank you.\n山田太郎")).toBe("en");
    expect(scriptLanguage("subscribe")).toBe("en");
  });

  it("says nothing about a body without words", () => {
    expect(scriptLanguage("")).toBeUndefined();
    expect(scriptLanguage(undefined)).toBeUndefined();
    expect(scriptLanguage("12345 --- !!!")).toBeUndefined();
  });
});
