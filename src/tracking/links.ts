import type { Rendition } from "../issues/render.js";

/**
 * Link numbers, given when a send's message is built (render once). Each link of the issue that
 * leads away from us gets a number, stored in send_links with its URL and the story it sits in, and
 * its href becomes a slot the splice fills with the reader's `/r/<token>`. The rendition is our own
 * react-email output, so a small tag scanner is enough: attribute values never hold `>` (React
 * escapes it) and `<style>` is the only raw-text element it writes.
 *
 * Not rewritten: `mailto:` and every non-http(s) link, in-message `#anchors`, the per-reader
 * placeholders (unsubscribe, manage, view in browser, the PDF edition) and any link into this
 * install's own reader pages (archive, manage, unsubscribe, confirm): they lead to pages that never
 * track, and a reader's unsubscribe link must work whatever happens to tracking.
 *
 * A URL that is in the HTML and in the text part gets one number (the text lists each URL once, in
 * references at the end, so it cannot say which story a reference came from: the HTML's first
 * occurrence speaks for it). The same URL in two stories gets two numbers: a click counts for the
 * story it was in.
 */
export interface SendLink {
  linkNo: number;
  url: string;
  storyAnchor: string | null;
  headline: string | null;
  canary: boolean;
}

export interface TrackedRendition {
  rendition: Rendition;
  /** Every numbered link, the canary (0) first; empty when clicks are not tracked. */
  links: SendLink[];
}

export interface TrackOptions {
  /** PUBLIC_URL, without a trailing slash. */
  publicUrl: string;
  clicks: boolean;
  opens: boolean;
}

/** The slot of link N's `/r/` URL, and of the open pixel's `/o/` URL, in a tracked rendition. */
export const linkPlaceholder = (linkNo: number) => `{{digest_link_${linkNo}}}`;
export const openPlaceholder = "{{digest_open_url}}";
/** Matches either slot; group 1 is the link number. Only a tracked template looks for them. */
export const trackingPlaceholderPattern = /\{\{digest_link_(\d{1,6})\}\}|\{\{digest_open_url\}\}/g;

/**
 * The canary: a link no person can see, reach with the keyboard or hear, present in every tracked
 * message. Link scanners fetch every href of a message, so a hit on it marks its delivery's burst
 * as a machine's. It is in the HTML only: a plain-text part cannot hide a URL, and a person reading
 * it might follow it. Placed last in the body, so it moves nothing people see.
 */
const canaryHtml = `<a href="${linkPlaceholder(0)}" aria-hidden="true" tabindex="-1" style="display:none;font-size:0;line-height:0;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all"></a>`;
/** The open pixel: last in the body; alt="" so screen readers skip it. */
const pixelHtml = `<img src="${openPlaceholder}" width="1" height="1" alt="" style="display:block;border:0">`;

const ownPages = /^\/(?:archive|manage|unsubscribe|confirm|r|o)(?:[/?#.]|$)/;

/** Whether a link (its href, entities decoded) is one a click on which is counted. */
export function isTrackable(href: string, publicUrl: string): boolean {
  if (!/^https?:\/\//i.test(href) || href.includes("{{digest_")) return false;
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return false;
  }
  return !(url.origin === new URL(publicUrl).origin && ownPages.test(url.pathname));
}

export function trackRendition(rendition: Rendition, options: TrackOptions): TrackedRendition {
  if (!options.clicks && !options.opens) return { rendition, links: [] };
  const links: SendLink[] = [];
  let html = rendition.html;
  let text = rendition.text;
  if (options.clicks) {
    links.push({
      linkNo: 0,
      url: `${options.publicUrl}/`,
      storyAnchor: null,
      headline: null,
      canary: true,
    });
    const numbered = numberHtmlLinks(html, options.publicUrl, links);
    html = numbered.html;
    text = numberTextLinks(text, options.publicUrl, links, numbered.firstByUrl);
  }
  const tail = (options.clicks ? canaryHtml : "") + (options.opens ? pixelHtml : "");
  const bodyEnd = html.toLowerCase().lastIndexOf("</body>");
  html = bodyEnd === -1 ? html + tail : html.slice(0, bodyEnd) + tail + html.slice(bodyEnd);
  return { rendition: { html, text }, links };
}

const tagPattern = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>/g;

function numberHtmlLinks(
  html: string,
  publicUrl: string,
  links: SendLink[],
): { html: string; firstByUrl: Map<string, number> } {
  const byKey = new Map<string, number>();
  const firstByUrl = new Map<string, number>();
  let out = "";
  let last = 0;
  let tables = 0;
  let story: { anchor: string; headline: string; depth: number } | undefined;
  tagPattern.lastIndex = 0;
  for (let match = tagPattern.exec(html); match; match = tagPattern.exec(html)) {
    const [whole, closing, rawName, attributes = ""] = match;
    if (!rawName) continue;
    const name = rawName.toLowerCase();
    if (name === "style" && !closing) {
      const end = html.toLowerCase().indexOf("</style", tagPattern.lastIndex);
      if (end !== -1) tagPattern.lastIndex = end;
      continue;
    }
    if (name === "table") {
      if (!closing) tables++;
      else {
        // A story is its heading's section: the table it sits in ends the story.
        if (story && tables === story.depth) story = undefined;
        tables--;
      }
      continue;
    }
    if (name === "h2" && !closing) {
      const id = attribute(attributes, "id");
      if (id !== undefined) {
        const end = html.toLowerCase().indexOf("</h2>", tagPattern.lastIndex);
        const inner = end === -1 ? "" : html.slice(tagPattern.lastIndex, end);
        story = { anchor: id, headline: decodeEntities(inner.replace(/<[^>]*>/g, "")).trim(), depth: tables };
      }
      continue;
    }
    if (name !== "a" || closing) continue;
    const found = /(\shref=")([^"]*)"/i.exec(attributes);
    if (!found) continue;
    const url = decodeEntities(found[2] as string);
    if (!isTrackable(url, publicUrl)) continue;
    const key = `${story?.anchor ?? ""}\n${url}`;
    let linkNo = byKey.get(key);
    if (linkNo === undefined) {
      linkNo = links.length;
      byKey.set(key, linkNo);
      if (!firstByUrl.has(url)) firstByUrl.set(url, linkNo);
      links.push({
        linkNo,
        url: new URL(url).href,
        storyAnchor: story?.anchor ?? null,
        headline: story?.headline ?? null,
        canary: false,
      });
    }
    const hrefAt = match.index + whole.indexOf(found[0]) + (found[1] as string).length;
    out += html.slice(last, hrefAt) + linkPlaceholder(linkNo);
    last = hrefAt + (found[2] as string).length;
  }
  return { html: out + html.slice(last), firstByUrl };
}

/** The text part lists its links as references at the end (`[3] https://...`, see htmlToText). */
function numberTextLinks(
  text: string,
  publicUrl: string,
  links: SendLink[],
  firstByUrl: Map<string, number>,
): string {
  return text.replace(/^(\[\d+\] )(\S+)$/gm, (line, label: string, url: string) => {
    if (!isTrackable(url, publicUrl)) return line;
    let linkNo = firstByUrl.get(url);
    if (linkNo === undefined) {
      linkNo = links.length;
      firstByUrl.set(url, linkNo);
      links.push({ linkNo, url: new URL(url).href, storyAnchor: null, headline: null, canary: false });
    }
    return label + linkPlaceholder(linkNo);
  });
}

function attribute(attributes: string, name: string): string | undefined {
  const found = new RegExp(`\\s${name}="([^"]*)"`, "i").exec(attributes);
  return found ? decodeEntities(found[1] as string) : undefined;
}

const named: Record<string, string> = { amp: "&", quot: '"', apos: "'", lt: "<", gt: ">", nbsp: "\u00a0" };

function decodeEntities(s: string): string {
  return s.replace(/&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|([a-z]+));/gi, (whole, dec, hex, name) => {
    if (dec || hex) {
      const code = dec ? Number(dec) : Number.parseInt(hex as string, 16);
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return named[(name as string).toLowerCase()] ?? whole;
  });
}
