import { contrastRatio, hex, minimumTextContrast, parseColour, type Rgb } from "./contrast.js";

/**
 * The colour pairs a rendition's text is shown in, light and dark, read from the HTML itself: each
 * element's inline `color` and the nearest `background-color` under it, and in dark mode the
 * `!important` rules of the `prefers-color-scheme: dark` block, which override the inline light
 * colours by class. Neither Markdown nor front matter can set a colour (raw HTML is shown as text),
 * so these are the styles the template gives each Markdown element; reading them from the rendered
 * issue checks exactly what a reader gets, for the elements this issue uses.
 *
 * The rendition is our own React output (well-formed, quoted attributes), so a small tag scanner
 * reads it; it is not a general HTML parser.
 */
export type Scheme = "light" | "dark";

export interface ColourPair {
  scheme: Scheme;
  foreground: string;
  background: string;
  ratio: number;
  /** The first text shown in this pair, shortened. */
  sample: string;
}

interface Colours {
  color: Rgb;
  background: Rgb;
}

interface Frame extends Record<Scheme, Colours> {
  tag: string;
  hidden: boolean;
}

/** What a browser shows with no colours set: black on white, and with `color-scheme: dark` white on #121212. */
const defaults: Record<Scheme, Colours> = {
  light: { color: [0, 0, 0], background: [255, 255, 255] },
  dark: { color: [255, 255, 255], background: [18, 18, 18] },
};

const voidTags = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "link",
  "meta",
  "source",
  "wbr",
]);
const skippedText = new Set(["style", "title", "script", "head"]);

/** Every distinct (scheme, foreground, background) pair that text is shown in, in document order. */
export function textColourPairs(html: string): ColourPair[] {
  const dark = darkRules(html);
  // A mail that does not say it supports dark mode is shown by browsers in its light colours.
  const darkCapable =
    /<meta[^>]+name="color-scheme"[^>]+content="[^"]*dark/i.test(html) ||
    /(^|[\s;{])color-scheme\s*:[^;}]*dark/i.test(html);
  const root: Frame = {
    tag: "#root",
    hidden: false,
    light: defaults.light,
    dark: darkCapable ? defaults.dark : defaults.light,
  };
  const stack: Frame[] = [root];
  const pairs = new Map<string, ColourPair>();
  // Each alternative inside a tag starts with a different character, so a tag that never closes
  // costs one pass, not a search (no catastrophic backtracking on hostile input).
  const token =
    /<!--[\s\S]*?-->|<!doctype[^>]*>|<\/([a-z0-9]+)\s*>|<([a-z0-9]+)((?:[^>"']|"[^"]*"|'[^']*')*)>|([^<]+)/gi;
  for (const m of html.matchAll(token)) {
    const [, closing, opening, attributes = "", text] = m;
    const selfClosing = attributes.trimEnd().endsWith("/");
    const top = stack[stack.length - 1] as Frame;
    if (closing) {
      const at = stack.map((f) => f.tag).lastIndexOf(closing.toLowerCase());
      if (at > 0) stack.length = at;
    } else if (opening) {
      const tag = opening.toLowerCase();
      const style = declarations(attribute(attributes, "style") ?? "");
      const classes = (attribute(attributes, "class") ?? "").split(/\s+/).filter(Boolean);
      const frame: Frame = {
        tag,
        hidden: top.hidden || /^none\b/.test(style.display ?? "") || /^0(\.0*)?$/.test(style.opacity ?? ""),
        light: colours(top.light, style),
        dark: colours(top.dark, darkCapable ? { ...style, ...classRules(dark, classes) } : style),
      };
      if (!voidTags.has(tag) && !selfClosing) stack.push(frame);
    } else if (text?.trim() && !top.hidden && !stack.some((f) => skippedText.has(f.tag))) {
      for (const scheme of ["light", "dark"] as const) {
        const { color, background } = top[scheme];
        const key = `${scheme} ${hex(color)} ${hex(background)}`;
        if (!pairs.has(key))
          pairs.set(key, {
            scheme,
            foreground: hex(color),
            background: hex(background),
            ratio: contrastRatio(color, background),
            sample: sampleOf(text),
          });
      }
    }
  }
  return [...pairs.values()];
}

/** The pairs under 4.5:1, one warning each. */
export function lowContrastPairs(html: string): ColourPair[] {
  return textColourPairs(html).filter((p) => p.ratio < minimumTextContrast);
}

function colours(parent: Colours, style: Record<string, string>): Colours {
  const color = style.color === undefined ? undefined : parseColour(style.color);
  const background =
    style["background-color"] === undefined
      ? style.background === undefined
        ? undefined
        : parseColour(style.background)
      : parseColour(style["background-color"]);
  return { color: color ?? parent.color, background: background ?? parent.background };
}

/** `.class { color: ...; background-color: ... }` rules inside `@media (prefers-color-scheme: dark)`. */
function darkRules(html: string): Map<string, Record<string, string>> {
  const rules = new Map<string, Record<string, string>>();
  for (const media of html.matchAll(
    /@media[^{]*prefers-color-scheme\s*:\s*dark[^{]*\{((?:[^{}]*\{[^{}]*\})*)\s*\}/gi,
  )) {
    for (const rule of (media[1] ?? "").matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
      const body = declarations(rule[2] ?? "");
      for (const selector of (rule[1] ?? "").split(",")) {
        const cls = /^\s*\.([\w-]+)\s*$/.exec(selector)?.[1];
        if (cls) rules.set(cls, { ...rules.get(cls), ...body });
      }
    }
  }
  return rules;
}

function classRules(rules: Map<string, Record<string, string>>, classes: string[]): Record<string, string> {
  return Object.assign({}, ...classes.map((c) => rules.get(c) ?? {}));
}

function declarations(css: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of decode(css).split(";")) {
    const colon = part.indexOf(":");
    if (colon > 0) out[part.slice(0, colon).trim().toLowerCase()] = part.slice(colon + 1).trim();
  }
  return out;
}

function attribute(attributes: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, "i").exec(attributes);
  return m ? (m[1] ?? m[2]) : undefined;
}

function decode(s: string): string {
  return s
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
}

function sampleOf(text: string): string {
  const t = decode(text).replace(/\s+/g, " ").trim();
  return t.length > 40 ? `${t.slice(0, 39)}…` : t;
}
