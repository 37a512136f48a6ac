import { html, raw } from "hono/html";
import type { Issue } from "../db/schema.js";
import type { ArchiveSearch, StoryMatch } from "../issues/search.js";
import type { Newsletter } from "../newsletter.js";
import { page } from "./pages.js";
import { searchForm } from "./search-form.js";
import { searchText as t } from "./search-text.js";

/**
 * `GET /archive`: the list of published issues, and with `?q=` the stories that match. The query
 * comes back into the page only through Hono's escaping `html` tag; the highlighted headline and
 * snippet are HTML already, built by issues/search-snippet.ts, which escapes every character of
 * the stored text and adds nothing but <mark>.
 */

const permalink = (m: StoryMatch) => `/archive/${m.slug}${m.anchor ? `#${m.anchor}` : ""}`;

function result(m: StoryMatch) {
  const where = m.anchor ? m.subject : t.issueIntro;
  return html`<li>
  <h2><a href="${permalink(m)}">${raw(m.headlineHtml)}</a></h2>
  <p class="muted">${where} · ${m.issueDate}</p>
  ${m.snippetHtml ? html`<p dir="auto">${raw(m.snippetHtml)}</p>` : ""}
</li>`;
}

export function archivePage(
  newsletter: Newsletter,
  archive: Pick<Issue, "slug" | "subject" | "issueDate">[],
  search?: ArchiveSearch,
) {
  if (!search) {
    return page(
      newsletter,
      t.archiveTitle,
      html`<h1>${newsletter.archiveTitle ?? t.archiveTitle}</h1>
${searchForm()}
<h2>${t.allIssues}</h2>
${
  archive.length === 0
    ? html`<p class="muted">${t.noIssues}</p>`
    : html`<ul class="archive">${archive.map(
        (i) =>
          html`<li><a href="/archive/${i.slug}">${i.subject}</a> <span class="muted">${i.issueDate}</span> <a class="noprint" href="/archive/${i.slug}.pdf">${t.pdf}</a></li>`,
      )}</ul>`
}`,
    );
  }
  const { query, matches, total } = search;
  const count =
    total === 0
      ? t.noMatches
      : `${t.resultCount(total)}${total > matches.length ? ` ${t.showingFirst(matches.length)}` : ""}`;
  return page(
    newsletter,
    t.resultsTitle(query),
    html`<h1 dir="auto">${t.resultsTitle(query)}</h1>
${searchForm(query)}
<p role="status">${count}</p>
${matches.length > 0 ? html`<ol class="results">${matches.map(result)}</ol>` : ""}`,
  );
}
