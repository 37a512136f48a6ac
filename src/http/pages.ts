import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Issue, Subscriber } from "../db/schema.js";
import type { Newsletter } from "../newsletter.js";
import { searchForm } from "./search-form.js";

/**
 * The reader-facing pages: plain server-rendered HTML that works without JavaScript. Every value is
 * interpolated through Hono's `html` tag, which escapes it, so a name like `<script>` or a
 * right-to-left name is shown as the text it is (`dir="auto"` lets the browser pick its direction).
 */
type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const style = `
body{font:16px/1.6 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1f24;background:#fff}
h1{font-size:1.6rem;margin:.2rem 0 1rem}h2{font-size:1.2rem;margin-top:2rem}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}
input[type=email],input[type=text],input[type=search]{width:100%;max-width:24rem;padding:.5rem;font:inherit;border:1px solid #888;border-radius:4px}
button{margin-top:1rem;padding:.6rem 1.1rem;font:inherit;font-weight:600;border:0;border-radius:4px;background:#0b4f8a;color:#fff;cursor:pointer}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
.muted{color:#555}ul.archive{padding-left:1.2rem}
@media (prefers-color-scheme:dark){body{background:#15181c;color:#e6e6e6}.muted{color:#aaa}a{color:#8cc4ff}}
@media print{form,button,.hp,.noprint{display:none!important}body{max-width:none;margin:0;color:#000;background:#fff}a{color:#000}}`;

export function page(newsletter: Newsletter, title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
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

export function homePage(
  newsletter: Newsletter,
  archive: Pick<Issue, "slug" | "subject" | "issueDate">[],
): Html {
  return page(
    newsletter,
    "Subscribe",
    html`<h1>${newsletter.name}</h1>
${newsletter.tagline ? html`<p>${newsletter.tagline}</p>` : ""}
<form method="post" action="/subscribe">
  <label for="email">Email address</label>
  <input id="email" name="email" type="email" required maxlength="254" autocomplete="email">
  <label for="name">Name <span class="muted">(optional)</span></label>
  <input id="name" name="name" type="text" maxlength="100" autocomplete="name" dir="auto">
  <div class="hp" aria-hidden="true">
    <label for="website">Leave this field empty</label>
    <input id="website" name="website" type="text" tabindex="-1" autocomplete="off">
  </div>
  <button type="submit">Subscribe</button>
</form>
<p class="muted">We send a confirmation link first: nothing arrives until you click it.</p>
<h2>${newsletter.archiveTitle ?? "Past issues"}</h2>
${archive.length > 0 ? searchForm() : ""}
${
  archive.length === 0
    ? html`<p class="muted">No issues yet.</p>`
    : html`<ul class="archive">${archive.map(
        (i) =>
          html`<li><a href="/archive/${i.slug}">${i.subject}</a> <span class="muted">${i.issueDate}</span> <a class="noprint" href="/archive/${i.slug}.pdf">PDF</a></li>`,
      )}</ul>`
}`,
  );
}

export function messagePage(newsletter: Newsletter, title: string, message: string): Html {
  return page(newsletter, title, html`<h1>${title}</h1><p>${message}</p>`);
}

export function unsubscribePage(newsletter: Newsletter, token: string): Html {
  return page(
    newsletter,
    "Unsubscribe",
    html`<h1>Unsubscribe</h1>
<p>Stop receiving ${newsletter.name} at this address?</p>
<form method="post" action="/unsubscribe/${token}">
  <input type="hidden" name="List-Unsubscribe" value="One-Click">
  <button type="submit">Unsubscribe</button>
</form>`,
  );
}

const statusText: Record<Subscriber["status"], string> = {
  pending: "waiting for you to click the confirmation link we mailed you",
  active: "subscribed",
  unsubscribed: "unsubscribed",
  bounced: "paused: mail to this address bounced",
  complained: "paused: this address reported our mail as unwanted",
};

export function managePage(
  newsletter: Newsletter,
  subscriber: Subscriber,
  token: string,
  notice?: string,
): Html {
  const action = `/manage/${token}`;
  return page(
    newsletter,
    "Your subscription",
    html`<h1>Your subscription</h1>
${notice ? html`<p role="status"><strong>${notice}</strong></p>` : ""}
<p><span dir="auto">${subscriber.email}</span>: ${statusText[subscriber.status]}.</p>
<form method="post" action="${action}">
  <input type="hidden" name="action" value="name">
  <label for="name">Name</label>
  <input id="name" name="name" type="text" maxlength="100" dir="auto" value="${subscriber.name ?? ""}">
  <button type="submit">Save name</button>
</form>
${
  subscriber.status === "unsubscribed"
    ? html`<form method="post" action="${action}"><input type="hidden" name="action" value="resubscribe"><button type="submit">Subscribe again</button></form>
<p class="muted">We will mail you a new confirmation link.</p>`
    : subscriber.status === "active" || subscriber.status === "pending"
      ? html`<form method="post" action="${action}"><input type="hidden" name="action" value="unsubscribe"><button type="submit">Unsubscribe</button></form>`
      : ""
}`,
  );
}
