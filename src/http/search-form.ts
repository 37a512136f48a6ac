import { html } from "hono/html";
import { maxQueryLength } from "../issues/search.js";
import { searchText as t } from "./search-text.js";

/** The search box: a GET form, so a search is a link a reader can share. */
export function searchForm(query = "") {
  return html`<form role="search" method="get" action="/archive">
  <label for="q">${t.searchLabel}</label>
  <input id="q" name="q" type="search" maxlength="${maxQueryLength}" value="${query}" dir="auto" aria-describedby="q-hint">
  <button type="submit">${t.searchButton}</button>
  <p id="q-hint" class="muted">${t.searchHint}</p>
</form>`;
}
