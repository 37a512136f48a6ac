import { placeholders } from "../../emails/_components/placeholders.js";
import type { Rendition } from "./render.js";

export interface ReaderValues {
  email: string;
  unsubscribeUrl: string;
  manageUrl: string;
  viewUrl: string;
}

/** For values spliced into HTML text or attribute slots. */
export const escapeHtml = (s: string) =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

/** Substitutes one reader's values into a rendition (HTML-escaped in the HTML, as-is in the text). */
export function personalize(rendition: Rendition, values: ReaderValues): Rendition {
  const fill = (text: string, encode: (s: string) => string) =>
    text
      .replaceAll(placeholders.email, encode(values.email))
      .replaceAll(placeholders.unsubscribeUrl, encode(values.unsubscribeUrl))
      .replaceAll(placeholders.manageUrl, encode(values.manageUrl))
      .replaceAll(placeholders.viewUrl, encode(values.viewUrl));
  return { html: fill(rendition.html, escapeHtml), text: fill(rendition.text, (s) => s) };
}

export { placeholders };
