import type { Context } from "hono";
import type { Language } from "../i18n/catalogue.js";
import { chooseLanguage, readerLanguage } from "../i18n/choose.js";
import type { AppDeps } from "./deps.js";

/**
 * The language of a reader page: the subscriber's own when the page is about one, else what the
 * browser asks for (`Accept-Language`) among LANGUAGES. Staff pages are English and never ask.
 */
export type Languages = readonly [Language, ...Language[]];

export function configured(deps: Pick<AppDeps, "languages">): Languages {
  return deps.languages ?? ["en"];
}

/** For a page about nobody in particular (home, errors): the browser's choice; caches keep one per language. */
export function browserLanguage(c: Context, languages: Languages): Language {
  c.header("Vary", "Accept-Language", { append: true });
  return chooseLanguage(languages, { acceptLanguage: c.req.header("accept-language") });
}

export function subscriberLanguage(subscriber: { language: string | null }, languages: Languages): Language {
  return readerLanguage(subscriber.language, languages);
}
