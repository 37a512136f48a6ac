import type { Language } from "./catalogue.js";

/**
 * Which of the configured languages a reader gets (SPEC §4): what they chose, else what their
 * browser or mail says it prefers, else the first configured. Only configured languages come out.
 */

/** Longer headers are cut here: a real browser sends a handful of tags, not kilobytes. */
const maxHeaderLength = 1000;

export interface LanguagePreference {
  /** The tag as sent, lower-cased: `ja`, `en-us`, `*`. */
  tag: string;
  /** 0 to 1; 0 means "not this one". */
  q: number;
}

/**
 * `Accept-Language` (RFC 9110 §12.5.4): language ranges with optional `q` weights, best first; of
 * equal weight, the one written first. An entry whose weight is not a valid qvalue is dropped
 * rather than guessed at.
 */
export function parseAcceptLanguage(header: string | undefined): LanguagePreference[] {
  if (!header) return [];
  const entries: Array<LanguagePreference & { at: number }> = [];
  header
    .slice(0, maxHeaderLength)
    .split(",")
    .forEach((entry, at) => {
      const [range = "", ...params] = entry.split(";").map((part) => part.trim());
      if (!/^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$/.test(range)) return;
      let q = 1;
      for (const param of params) {
        const weight = /^q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i.exec(param);
        if (weight?.[1] !== undefined) q = Number(weight[1]);
        else if (/^q\s*=/i.test(param)) return;
      }
      entries.push({ tag: range.toLowerCase(), q, at });
    });
  return entries.sort((a, b) => b.q - a.q || a.at - b.at).map(({ tag, q }) => ({ tag, q }));
}

/** The primary subtag: `ja` of `ja-JP`. */
function primary(tag: string): string {
  return tag.split("-")[0] ?? tag;
}

/**
 * The configured language the preferences ask for first, matched on the primary subtag (`ja-JP`
 * asks for `ja`); `*` asks for the first configured language not refused with `q=0`. Undefined when
 * none matches.
 */
export function matchLanguage(
  preferences: readonly LanguagePreference[],
  configured: readonly Language[],
): Language | undefined {
  const refused = new Set(preferences.filter((p) => p.q === 0).map((p) => primary(p.tag)));
  const allowed = configured.filter((language) => !refused.has(language));
  for (const { tag, q } of preferences) {
    if (q === 0) continue;
    if (tag === "*") return allowed[0];
    const found = allowed.find((language) => language === primary(tag));
    if (found) return found;
  }
  return undefined;
}

/** A language tag list without weights, as `Content-Language` carries it (`ja, en`). */
export function parseContentLanguage(header: string | undefined): LanguagePreference[] {
  return parseAcceptLanguage(header).filter((p) => p.tag !== "*");
}

/** The form's choice if it is a configured language, else the browser's `Accept-Language`, else the default. */
export function chooseLanguage(
  configured: readonly [Language, ...Language[]],
  input: { chosen?: unknown; acceptLanguage?: string },
): Language {
  const chosen = configured.find((language) => language === input.chosen);
  return chosen ?? matchLanguage(parseAcceptLanguage(input.acceptLanguage), configured) ?? configured[0];
}

/** A stored language still configured, else the default: a language taken off LANGUAGES falls back. */
export function readerLanguage(
  stored: string | null | undefined,
  configured: readonly [Language, ...Language[]],
) {
  return configured.find((language) => language === stored) ?? configured[0];
}

/** What a mailed `subscribe` says about its writer's language (read off the event loop, plain data). */
export interface MailLanguageHints {
  contentLanguage?: string;
  acceptLanguage?: string;
  /** The language the body's script suggests (script.ts). */
  script?: string;
}

/**
 * A mailed `subscribe`: the message's `Content-Language`, else its `Accept-Language` (some clients
 * send one), else the script its body is written in, else the default.
 */
export function mailLanguage(
  configured: readonly [Language, ...Language[]],
  hints: MailLanguageHints,
): Language {
  return (
    matchLanguage(parseContentLanguage(hints.contentLanguage), configured) ??
    matchLanguage(parseAcceptLanguage(hints.acceptLanguage), configured) ??
    configured.find((language) => language === hints.script) ??
    configured[0]
  );
}
