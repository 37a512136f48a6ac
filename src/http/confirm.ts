import { createHash } from "node:crypto";
import { type Context, Hono } from "hono";
import { html, raw } from "hono/html";
import { DigestError } from "../errors.js";
import { format, type Language, messagesFor } from "../i18n/catalogue.js";
import type { Newsletter } from "../newsletter.js";
import { type ConfirmResult, confirm, subscriberForToken } from "../subscribers/lifecycle.js";
import type { AppDeps } from "./deps.js";
import { configured, type Languages, subscriberLanguage } from "./language.js";
import { fill, messagePage, page } from "./pages.js";

/**
 * The confirmation link (SPEC §4). Link scanners in corporate and government mail gateways fetch
 * every link in a mail, some before the person ever sees it, so a GET that confirmed would
 * subscribe anyone whose address a stranger typed in. GET (and HEAD, which Hono answers from the
 * GET route) therefore only shows a page with one button; the POST of that button confirms. For a
 * person with JavaScript, a small script presses the button once the page is really on their screen,
 * so the link still feels like one click.
 */

/**
 * Presses the button only when the page is shown to a person: never while the page is prerendered
 * or in a background tab (it waits until it becomes visible), and never when the person came back
 * to this page with the Back button, which would otherwise throw them forward again.
 */
const confirmScript = `(() => {
  const form = document.getElementById("confirm");
  const [navigation] = performance.getEntriesByType("navigation");
  if (!form || (navigation && navigation.type === "back_forward")) return;
  let sent = false;
  const submit = () => {
    if (sent || document.prerendering || document.visibilityState !== "visible") return;
    sent = true;
    form.submit();
  };
  document.addEventListener("visibilitychange", submit);
  document.addEventListener("prerenderingchange", submit);
  submit();
})();`;

/** The CSP source that lets exactly this script run and no other (a hash needs no per-response state). */
export const confirmScriptSource = `'sha256-${createHash("sha256").update(confirmScript).digest("base64")}'`;

/**
 * Requests a browser makes ahead of a person: link prefetch (`Purpose: prefetch`, Chromium's
 * `Sec-Purpose: prefetch` and `prefetch;prerender`), Firefox's `X-Moz: prefetch` and Safari's
 * `X-Purpose: preview`. They must never change anything, whatever the method.
 */
export function isPrefetch(header: (name: string) => string | undefined): boolean {
  return ["sec-purpose", "purpose", "x-purpose", "x-moz"].some((name) =>
    /prefetch|prerender|preview/i.test(header(name) ?? ""),
  );
}

export function confirmRoutes(deps: AppDeps) {
  const { newsletter } = deps;
  const languages = configured(deps);
  const app = new Hono();

  app.get("/confirm/:token", async (c) => {
    const token = c.req.param("token");
    const subscriber = await linkHolder(deps, token);
    if (subscriber.status !== "pending") {
      return c.html(resultPage(newsletter, languages, { confirmed: false, subscriber }));
    }
    return c.html(confirmPage(newsletter, subscriberLanguage(subscriber, languages), token));
  });

  // No Origin check: the token is the capability, and the page's `Referrer-Policy: no-referrer`
  // makes browsers send `Origin: null` with this very form, so such a check would refuse our own button.
  app.post("/confirm/:token", async (c) => {
    const token = c.req.param("token");
    if (isPrefetch((name) => c.req.header(name))) {
      const subscriber = await linkHolder(deps, token);
      return c.html(confirmPage(newsletter, subscriberLanguage(subscriber, languages), token));
    }
    return c.html(resultPage(newsletter, languages, await confirmByLink(deps, c, token)));
  });

  return app;
}

/** A link that is tampered with, expired or names nobody is a link to nothing: 404. */
async function linkHolder(deps: AppDeps, token: string) {
  try {
    return await subscriberForToken(deps, "confirm", token);
  } catch (error) {
    throw notFound(error);
  }
}

async function confirmByLink(deps: AppDeps, c: Context, token: string): Promise<ConfirmResult> {
  try {
    return await confirm(deps, token, deps.clientIp(c));
  } catch (error) {
    throw notFound(error);
  }
}

function notFound(error: unknown): unknown {
  return error instanceof DigestError && error.kind === "invalid"
    ? new DigestError("not_found", error.message, { cause: error })
    : error;
}

function confirmPage(newsletter: Newsletter, lang: Language, token: string) {
  const m = messagesFor(lang);
  return page(
    newsletter,
    lang,
    m["confirm.title"],
    html`<h1>${m["confirm.title"]}</h1>
<p>${fill(m["confirm.oneMoreStep"], { newsletter: newsletter.name })}</p>
<form id="confirm" method="post" action="/confirm/${token}">
  <button type="submit">${m["confirm.button"]}</button>
</form>
<p class="muted">${m["confirm.notYou"]}</p>
<script>${raw(confirmScript)}</script>`,
  );
}

function resultPage(newsletter: Newsletter, languages: Languages, { confirmed, subscriber }: ConfirmResult) {
  const lang = subscriberLanguage(subscriber, languages);
  const m = messagesFor(lang);
  const active = confirmed || subscriber.status === "active";
  const text = active
    ? format(m["confirmed.welcome"], { newsletter: newsletter.name })
    : subscriber.status === "unsubscribed"
      ? m["confirmed.stayedUnsubscribed"]
      : m["confirmed.cannot"];
  return messagePage(newsletter, lang, active ? m["confirmed.title"] : m["confirmed.otherTitle"], text);
}
