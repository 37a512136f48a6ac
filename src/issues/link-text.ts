/**
 * Link text that means nothing on its own. Screen-reader users often jump from link to link, or
 * list a page's links, and then hear only each link's text: "click here, here, read more" tells
 * them nothing, and a bare URL is read out character by character. Lower case, without the
 * punctuation and spaces around it; Japanese included, as issues may be written in it.
 */
const vague = new Set([
  "click here",
  "click",
  "here",
  "this",
  "this link",
  "link",
  "read more",
  "more",
  "learn more",
  "more info",
  "details",
  "continue",
  "go",
  "this page",
  "website",
  "こちら",
  "ここ",
  "こちらをクリック",
  "ここをクリック",
  "詳しくはこちら",
  "続きを読む",
  "詳細",
  "リンク",
]);

/** Why a link's text does not say where it leads, or undefined when it does. */
export function vagueLinkText(text: string): string | undefined {
  const said = text
    .toLowerCase()
    .replace(/[\s\p{P}]+$/u, "")
    .replace(/^[\s\p{P}]+/u, "")
    .replace(/\s+/g, " ");
  if (said === "") return undefined;
  if (vague.has(said))
    return `link text "${text.trim()}" does not say where it leads (screen readers list a mail's links by their text alone); use words that name the destination`;
  // An address written as the link's text (GFM also links bare https:// and www. text by itself).
  if (/^(https?:\/\/|www\.)\S+$/i.test(said))
    return `link text "${text.trim()}" is a bare URL, which screen readers spell out; give the link words that name the destination`;
  return undefined;
}
