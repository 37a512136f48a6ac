import { render } from "@react-email/render";
import { convert, type FormatCallback } from "html-to-text";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import type { Block, Masthead } from "../../emails/_components/content.js";
import { placeholders } from "../../emails/_components/placeholders.js";
import { Blocks } from "../../emails/_components/rich-text.js";
import IssueEmail from "../../emails/issue.js";
import type { Newsletter } from "../newsletter.js";
import type { ParsedIssue } from "./parse.js";

/** An issue rendered once: HTML and plain text with per-reader placeholders still in them. */
export interface Rendition {
  html: string;
  text: string;
}

export function mastheadOf(newsletter: Newsletter): Masthead {
  return {
    name: newsletter.name,
    tagline: newsletter.tagline,
    publisher: newsletter.publisher,
    website: newsletter.website,
    postalAddress: newsletter.postalAddress,
    footer: newsletter.footer,
    contact: newsletter.contact,
    social: newsletter.social,
  };
}

export function dateLabel(isoDate: string): string {
  return new Date(`${isoDate}T12:00:00Z`).toLocaleDateString("en-US", {
    year: "numeric",
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });
}

/**
 * Where the PDF edition is served when the front matter names no other PDF. The "view in browser"
 * URL is always `${PUBLIC_URL}/archive/<slug>`, so its placeholder plus `.pdf` is the edition's
 * address, and the rendition stays free of the public URL (filled in per reader, like the rest).
 */
const editionUrl = `${placeholders.viewUrl}.pdf`;

export async function renderIssue(issue: ParsedIssue, newsletter: Newsletter): Promise<Rendition> {
  const element = createElement(IssueEmail, {
    masthead: mastheadOf(newsletter),
    subject: issue.subject,
    volumeLabel: `Vol ${issue.volume}`,
    dateLabel: dateLabel(issue.date),
    preheader: issue.preheader,
    pdfUrl: issue.pdf ?? editionUrl,
    intro: issue.intro,
    stories: issue.stories,
  });
  const html = await render(element);
  return { html, text: htmlToText(html) };
}

/** Some of an issue's blocks as HTML, as the email shows them: the Atom feed's full text. */
export function blocksHtml(blocks: Block[]): string {
  return renderToStaticMarkup(createElement(Blocks, { blocks }));
}

/**
 * Plain text that reads like a letter: lines wrapped at 78, links as numbered references listed at
 * the end (in-message #anchors only make sense in HTML, so they get none).
 */
export function htmlToText(html: string): string {
  const references: string[] = [];
  const reference: FormatCallback = (elem, walk, builder) => {
    const href = String(elem.attribs?.href ?? "");
    walk(elem.children, builder);
    if (!href || href.startsWith("#")) return;
    let n = references.indexOf(href) + 1;
    if (n === 0) n = references.push(href);
    builder.addInline(` [${n}]`);
  };
  const body = convert(html, {
    wordwrap: 78,
    formatters: { reference },
    selectors: [
      { selector: "img", format: "skip" },
      { selector: "[data-skip-in-text=true]", format: "skip" },
      { selector: "a", format: "reference" },
      { selector: "h1", options: { uppercase: false } },
      { selector: "h2", options: { uppercase: false, leadingLineBreaks: 2, trailingLineBreaks: 1 } },
      { selector: "h3", options: { uppercase: false } },
      { selector: "table", format: "block" },
      { selector: "tr", format: "block" },
      { selector: "td", format: "block" },
    ],
  });
  const list = references.map((href, i) => `[${i + 1}] ${href}`).join("\n");
  return `${body.trim()}\n\n${list}\n`.replace(/\n{3,}/g, "\n\n");
}
