/**
 * The language a mail's own words suggest, by their script, for a `subscribe` mail that names no
 * language in its headers. Japanese is written in kanji and kana; Latin letters stand for English,
 * the only Latin-script catalogue. Text that is mostly neither (or too short to tell) says nothing.
 */
export type ScriptLanguage = "ja" | "en";

/** Enough text to tell; a long message says no more past this. */
const sampleLength = 4000;

export function scriptLanguage(text: string | undefined): ScriptLanguage | undefined {
  const sample = (text ?? "").slice(0, sampleLength);
  const japanese = sample.match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu)?.length ?? 0;
  const latin = sample.match(/\p{Script=Latin}/gu)?.length ?? 0;
  // A kanji or kana says about as much as three Latin letters: a line of Japanese under the word
  // "subscribe" reads as Japanese, while an English sentence signed with a Japanese name stays English.
  const japaneseWeight = japanese * 3;
  if (japanese === 0 && latin < 2) return undefined;
  return japaneseWeight > latin ? "ja" : "en";
}
