import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Issue, Subscriber } from "../db/schema.js";
import { format, type Language, messagesFor, segments } from "../i18n/catalogue.js";
import type { Newsletter } from "../newsletter.js";
import { searchForm } from "./search-form.js";

/**
 * The reader-facing pages: plain server-rendered HTML that works without JavaScript. Every value is
 * interpolated through Hono's `html` tag, which escapes it, so a name like `<script>` or a
 * right-to-left name is shown as the text it is (`dir="auto"` lets the browser pick its direction).
 * Every word on them comes from the reader's language's catalogue (src/i18n), and `lang` says which.
 */
type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const style = `
body{font:16px/1.6 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1f24;background:#fff}
h1{font-size:1.6rem;margin:.2rem 0 1rem}h2{font-size:1.2rem;margin-top:2rem}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}
input[type=email],input[type=text],input[type=search]{box-sizing:border-box;width:100%;max-width:24rem;padding:.5rem;font:inherit;border:1px solid #888;border-radius:4px}
select{display:block;padding:.5rem;font:inherit;border:1px solid #888;border-radius:4px}
button{margin-top:1rem;padding:.6rem 1.1rem;font:inherit;font-weight:600;border:0;border-radius:4px;background:#0b4f8a;color:#fff;cursor:pointer}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
.muted{color:#555}ul.archive{padding-left:1.2rem}
html:lang(ja) body{font-family:"Hiragino Sans","Hiragino Kaku Gothic ProN",-apple-system,BlinkMacSystemFont,"Noto Sans JP","Noto Sans CJK JP","Yu Gothic UI","Yu Gothic",Meiryo,system-ui,sans-serif;line-height:1.8;line-break:strict}
body{overflow-wrap:anywhere}
@media (prefers-color-scheme:dark){body{background:#15181c;color:#e6e6e6}.muted{color:#aaa}a{color:#8cc4ff}}
@media print{form,button,.hp,.noprint{display:none!important}body{max-width:none;margin:0;color:#000;background:#fff}a{color:#000}}`;

/**
 * A catalogue text whose `{name}` values are markup (a span, a link): literal parts and string
 * values are escaped by the `html` tag like any other value.
 */
export function fill(text: string, values: Record<string, Html | string>): Html {
  const parts = segments(text).map((part) => (typeof part === "string" ? part : (values[part.name] ?? "")));
  return html`${parts}`;
}

export function page(newsletter: Newsletter, lang: Language, title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · ${newsletter.name}</title>
<link rel="alternate" type="application/atom+xml" title="${newsletter.name}" href="/feed.xml">
<style>${style}</style>
</head>
<body>
<header><p class="muted"><a href="/">${newsletter.name}</a></p></header>
<main>
${body}
</main>
</body>
</html>`;
}

/**
 * A choice of the configured languages, each named in itself ("日本語", "English") so a reader
 * finds their own whatever the page is in; none when only one is configured.
 */
function languageChoice(label: string, languages: readonly Language[], current: Language): Html | "" {
  if (languages.length < 2) return "";
  return html`<label for="language">${label}</label>
  <select id="language" name="language">${languages.map(
    (language) =>
      html`<option value="${language}" lang="${language}"${language === current ? " selected" : ""}>${messagesFor(language)["language.name"]}</option>`,
  )}</select>`;
}

export function homePage(
  newsletter: Newsletter,
  lang: Language,
  archive: Pick<Issue, "slug" | "subject" | "issueDate">[],
  languages: readonly Language[] = [lang],
): Html {
  const m = messagesFor(lang);
  return page(
    newsletter,
    lang,
    m["page.subscribeTitle"],
    html`<h1>${newsletter.name}</h1>
${newsletter.tagline ? html`<p>${newsletter.tagline}</p>` : ""}
<form method="post" action="/subscribe">
  <label for="email">${m["home.emailLabel"]}</label>
  <input id="email" name="email" type="email" required maxlength="254" autocomplete="email">
  <label for="name">${m["home.nameLabel"]} <span class="muted">${m["home.optional"]}</span></label>
  <input id="name" name="name" type="text" maxlength="100" autocomplete="name" dir="auto">
  ${languageChoice(m["home.languageLabel"], languages, lang)}
  <div class="hp" aria-hidden="true">
    <label for="website">${m["home.honeypotLabel"]}</label>
    <input id="website" name="website" type="text" tabindex="-1" autocomplete="off">
  </div>
  <button type="submit">${m["home.subscribeButton"]}</button>
</form>
<p class="muted">${m["home.confirmFirst"]}</p>
<h2>${newsletter.archiveTitle ?? m["home.pastIssues"]}</h2>
${archive.length > 0 ? searchForm(lang) : ""}
${
  archive.length === 0
    ? html`<p class="muted">${m["home.noIssues"]}</p>`
    : html`<ul class="archive">${archive.map(
        (i) =>
          html`<li><a href="/archive/${i.slug}">${i.subject}</a> <span class="muted">${i.issueDate}</span> <a class="noprint" href="/archive/${i.slug}.pdf">${m["home.pdf"]}</a></li>`,
      )}</ul>`
}`,
  );
}

/** A page with a heading and one paragraph; `detail` (a message from our own code) follows in small print. */
export function messagePage(
  newsletter: Newsletter,
  lang: Language,
  title: string,
  message: string,
  detail?: Html,
): Html {
  return page(newsletter, lang, title, html`<h1>${title}</h1><p>${message}</p>${detail ?? ""}`);
}

export function unsubscribePage(newsletter: Newsletter, lang: Language, token: string): Html {
  const m = messagesFor(lang);
  return page(
    newsletter,
    lang,
    m["unsubscribe.title"],
    html`<h1>${m["unsubscribe.title"]}</h1>
<p>${fill(m["unsubscribe.question"], { newsletter: newsletter.name })}</p>
<form method="post" action="/unsubscribe/${token}">
  <input type="hidden" name="List-Unsubscribe" value="One-Click">
  <button type="submit">${m["unsubscribe.button"]}</button>
</form>`,
  );
}

/** What the manage page says about tracking: which kinds the install records, and for how long. */
export interface TrackingOptions {
  clicks: boolean;
  opens: boolean;
  retentionDays: number;
}

/** The reader's own switch for click and open tracking, in their language. */
function trackingSection(lang: Language, action: string, on: boolean, options: TrackingOptions): Html {
  const m = messagesFor(lang);
  const explain =
    options.clicks && options.opens
      ? m["manage.tracking.explainBoth"]
      : options.clicks
        ? m["manage.tracking.explainClicks"]
        : m["manage.tracking.explainOpens"];
  return html`<h2>${m["manage.tracking.heading"]}</h2>
<p>${on ? format(explain, { days: String(options.retentionDays) }) : m["manage.tracking.offNow"]}</p>
<form method="post" action="${action}"><input type="hidden" name="action" value="tracking"><input type="hidden" name="tracking" value="${on ? "off" : "on"}"><button type="submit">${on ? m["manage.tracking.turnOff"] : m["manage.tracking.turnOn"]}</button></form>`;
}

export function managePage(
  newsletter: Newsletter,
  lang: Language,
  subscriber: Subscriber,
  token: string,
  notice?: string,
  languages: readonly Language[] = [lang],
  /** Shown only while the install tracks clicks or opens: the reader's own switch. */
  tracking?: TrackingOptions,
): Html {
  const m = messagesFor(lang);
  const action = `/manage/${token}`;
  return page(
    newsletter,
    lang,
    m["manage.title"],
    html`<h1>${m["manage.title"]}</h1>
${notice ? html`<p role="status"><strong>${notice}</strong></p>` : ""}
<p>${fill(m["manage.statusLine"], {
      email: html`<span dir="auto">${subscriber.email}</span>`,
      status: m[`manage.status.${subscriber.status}`],
    })}</p>
<form method="post" action="${action}">
  <input type="hidden" name="action" value="name">
  <label for="name">${m["manage.nameLabel"]}</label>
  <input id="name" name="name" type="text" maxlength="100" dir="auto" value="${subscriber.name ?? ""}">
  <button type="submit">${m["manage.saveName"]}</button>
</form>
${
  languages.length > 1
    ? html`<form method="post" action="${action}">
  <input type="hidden" name="action" value="language">
  ${languageChoice(m["manage.languageLabel"], languages, lang)}
  <button type="submit">${m["manage.saveLanguage"]}</button>
</form>`
    : ""
}
${
  subscriber.status === "unsubscribed"
    ? html`<form method="post" action="${action}"><input type="hidden" name="action" value="resubscribe"><button type="submit">${m["manage.subscribeAgain"]}</button></form>
<p class="muted">${m["manage.newLinkNote"]}</p>`
    : subscriber.status === "active" || subscriber.status === "pending"
      ? html`<form method="post" action="${action}"><input type="hidden" name="action" value="unsubscribe"><button type="submit">${m["manage.unsubscribeButton"]}</button></form>`
      : ""
}
${tracking && (tracking.clicks || tracking.opens) ? trackingSection(lang, action, subscriber.tracking, tracking) : ""}`,
  );
}
