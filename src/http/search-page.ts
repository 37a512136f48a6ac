import { html, raw } from "hono/html";
import type { Issue } from "../db/schema.js";
import { format, type Language, type Messages, messagesFor } from "../i18n/catalogue.js";
import type { ArchiveSearch, StoryMatch } from "../issues/search.js";
import type { Newsletter } from "../newsletter.js";
import { page } from "./pages.js";
import { searchForm } from "./search-form.js";

/**
 * `GET /archive`: the list of published issues, and with `?q=` the stories that match. The query
 * comes back into the page only through Hono's escaping `html` tag; the highlighted headline and
 * snippet are HTML already, built by issues/search-snippet.ts, which escapes every character of
 * the stored text and adds nothing but <mark>.
 */

const permalink = (m: StoryMatch) => `/archive/${m.slug}${m.anchor ? `#${m.anchor}` : ""}`;

function result(t: Messages, m: StoryMatch) {
  const where = m.anchor ? m.subject : t["search.issueIntro"];
  return html`<li>
  <h2><a href="${permalink(m)}">${raw(m.headlineHtml)}</a></h2>
  <p class="muted">${where} · ${m.issueDate}</p>
  ${m.snippetHtml ? html`<p dir="auto">${raw(m.snippetHtml)}</p>` : ""}
</li>`;
}

export function archivePage(
  newsletter: Newsletter,
  lang: Language,
  archive: Pick<Issue, "slug" | "subject" | "issueDate">[],
  search?: ArchiveSearch,
) {
  const t = messagesFor(lang);
  if (!search) {
    return page(
      newsletter,
      lang,
      t["archive.title"],
      html`<h1>${newsletter.archiveTitle ?? t["archive.title"]}</h1>
${searchForm(lang)}
<h2>${t["archive.allIssues"]}</h2>
${
  archive.length === 0
    ? html`<p class="muted">${t["home.noIssues"]}</p>`
    : html`<ul class="archive">${archive.map(
        (i) =>
          html`<li><a href="/archive/${i.slug}">${i.subject}</a> <span class="muted">${i.issueDate}</span> <a class="noprint" href="/archive/${i.slug}.pdf">${t["home.pdf"]}</a></li>`,
      )}</ul>`
}`,
    );
  }
  const { query, matches, total } = search;
  const count =
    total === 0
      ? t["search.noMatches"]
      : `${total === 1 ? t["search.resultCount.one"] : format(t["search.resultCount.other"], { count: String(total) })}${
          total > matches.length
            ? ` ${format(t["search.showingFirst"], { count: String(matches.length) })}`
            : ""
        }`;
  const title = format(t["search.resultsTitle"], { query });
  return page(
    newsletter,
    lang,
    title,
    html`<h1 dir="auto">${title}</h1>
${searchForm(lang, query)}
<p role="status">${count}</p>
${matches.length > 0 ? html`<ol class="results">${matches.map((m) => result(t, m))}</ol>` : ""}`,
  );
}
