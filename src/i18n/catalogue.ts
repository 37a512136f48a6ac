import { en, type MessageKey, type Messages } from "./locales/en.js";
import { ja } from "./locales/ja.js";

export type { MessageKey, Messages } from "./locales/en.js";

/**
 * Every language the reader-facing text exists in, one catalogue file each (locales/). LANGUAGES
 * may name only these (config.ts checks), so a page or mail never asks for a catalogue that is
 * not there. To add a language: copy locales/en.ts, translate it, and register it here.
 */
export const catalogues = { en, ja } as const satisfies Record<string, Messages>;

export type Language = keyof typeof catalogues;
export const catalogueLanguages = Object.keys(catalogues) as Language[];

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && Object.hasOwn(catalogues, value);
}

export function messagesFor(language: Language): Messages {
  return catalogues[language];
}

/** One text with its `{name}` values filled in, as plain text (the caller escapes for HTML). */
export function t(language: Language, key: MessageKey, values: Record<string, string> = {}): string {
  return format(catalogues[language][key], values);
}

export function format(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/**
 * A text cut at its `{name}` marks, for a page or mail that puts markup in a value (a link, a
 * `dir="auto"` span): literal parts are strings, values are `{ name }`.
 */
export function segments(text: string): Array<string | { name: string }> {
  return text
    .split(/(\{\w+\})/)
    .filter((part) => part !== "")
    .map((part) => (/^\{\w+\}$/.test(part) ? { name: part.slice(1, -1) } : part));
}
