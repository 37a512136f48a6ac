import { html } from "hono/html";
import { type Language, messagesFor } from "../i18n/catalogue.js";
import { maxQueryLength } from "../issues/search.js";

/** The search box: a GET form, so a search is a link a reader can share. */
export function searchForm(lang: Language, query = "") {
  const m = messagesFor(lang);
  return html`<form role="search" method="get" action="/archive">
  <label for="q">${m["search.label"]}</label>
  <input id="q" name="q" type="search" maxlength="${maxQueryLength}" value="${query}" dir="auto" aria-describedby="q-hint">
  <button type="submit">${m["search.button"]}</button>
  <p id="q-hint" class="muted">${m["search.hint"]}</p>
</form>`;
}
