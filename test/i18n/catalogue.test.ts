import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { catalogueLanguages, catalogues, segments } from "../../src/i18n/catalogue.js";
import { en } from "../../src/i18n/locales/en.js";

const keys = Object.keys(en).sort();
const placeholders = (text: string) =>
  segments(text)
    .filter((part) => typeof part !== "string")
    .map((part) => part.name)
    .sort();

describe("the message catalogues", () => {
  it.each(catalogueLanguages)("%s has every key of the English source and no other", (language) => {
    expect(Object.keys(catalogues[language]).sort()).toEqual(keys);
  });

  it.each(catalogueLanguages)("%s leaves no text empty", (language) => {
    const empty = Object.entries(catalogues[language]).filter(([, text]) => text.trim() === "");
    expect(empty.map(([key]) => key)).toEqual([]);
  });

  it.each(catalogueLanguages)("%s fills in the same values as English in every text", (language) => {
    for (const key of keys) {
      const text = catalogues[language][key as keyof typeof en];
      expect(placeholders(text), `${language} ${key}`).toEqual(placeholders(en[key as keyof typeof en]));
    }
  });

  it("writes the Japanese texts in Japanese, not in copied English", () => {
    // Texts that are the same in both: a format, a word written alike, a lone full stop.
    const alike = new Set(["home.pdf", "manage.statusLine"]);
    const english = keys.filter(
      (key) => !alike.has(key) && catalogues.ja[key as keyof typeof en] === en[key as keyof typeof en],
    );
    expect(english.filter((key) => /[A-Za-z]{3}/.test(en[key as keyof typeof en]))).toEqual([]);
  });
});

describe("LANGUAGES", () => {
  it("is English alone when unset", () => {
    expect(loadConfig(["languages"], {}).languages).toEqual(["en"]);
  });

  it("takes a comma-separated list whose first entry is the default", () => {
    expect(loadConfig(["languages"], { LANGUAGES: " ja , en " }).languages).toEqual(["ja", "en"]);
  });

  it("refuses a language the catalogue lacks, naming it and the ones there are", () => {
    const attempt = () => loadConfig(["languages"], { LANGUAGES: "en,fr,xx" });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/LANGUAGES has no catalogue for fr, xx: the languages available are en, ja/);
  });

  it("refuses a language named twice and a list of nothing", () => {
    expect(() => loadConfig(["languages"], { LANGUAGES: "en,ja,en" })).toThrow(
      /LANGUAGES names a language twice/,
    );
    expect(() => loadConfig(["languages"], { LANGUAGES: " , " })).toThrow(
      /LANGUAGES needs at least one language/,
    );
  });
});
