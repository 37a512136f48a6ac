import { join } from "node:path";
import { Font } from "@react-pdf/renderer";
import { pdfFontFamily } from "../../emails/_pdf/styles.js";
import { packageRoot } from "../paths.js";

/** Found from the package root, so the fonts are there from src/, from dist/ and once installed. */
const fontFile = (name: string) => join(packageRoot, "assets", "fonts", name);

// Japanese and Chinese text has no spaces: a line may break between any two ideographs or kana,
// except before closing punctuation and small kana, or after an opening bracket (kinsoku shori).
const cjk = /[\u2e80-\u2fdf\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]/u;
const noLineStart = new Set([
  ..."、。，．・：；？！）」』】〕〉》”’ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々…‥!),.:;?]}%",
]);
const noLineEnd = new Set([..."（「『【〔〈《“‘([{"]);

/**
 * Splits one space-free word into the pieces a line may break between. react-pdf breaks lines at
 * spaces and, inside a word, at hyphenation points, where it draws a hyphen. An empty piece is a
 * zero-width space to the line breaker: a break with no hyphen, which is what CJK text needs. Latin
 * words stay whole: no hyphenation, so every word can be found (and copied) as it was written.
 */
export function lineBreakParts(word: string): string[] {
  if (!cjk.test(word)) return [word];
  const chars = [...word];
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < chars.length; i += 1) {
    const char = chars[i] as string;
    const before = chars[i - 1];
    const mayBreak =
      before !== undefined &&
      (cjk.test(before) || cjk.test(char)) &&
      !noLineStart.has(char) &&
      !noLineEnd.has(before);
    if (mayBreak) {
      parts.push(current, "");
      current = "";
    }
    current += char;
  }
  parts.push(current);
  return parts;
}

let registered = false;

/** Registers the embedded family once per process (react-pdf keeps fonts in one global store). */
export function registerPdfFonts(): void {
  if (registered) return;
  const regular = fontFile("NotoSansJP_400Regular.ttf");
  const bold = fontFile("NotoSansJP_700Bold.ttf");
  Font.register({
    family: pdfFontFamily,
    fonts: [
      { src: regular, fontWeight: 400 },
      { src: bold, fontWeight: 700 },
      // No italic cut exists: italic requests get the upright face instead of failing.
      { src: regular, fontWeight: 400, fontStyle: "italic" },
      { src: bold, fontWeight: 700, fontStyle: "italic" },
    ],
  });
  Font.registerHyphenationCallback(lineBreakParts);
  registered = true;
}
