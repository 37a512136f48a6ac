/** @jsxImportSource hono/jsx */
import { raw } from "hono/html";
import type { Problem } from "../../issues/markdown.js";
import type { Session } from "../../staff/sessions.js";
import { Csrf, Notice, Page } from "./layout.js";

/** The Markdown source, numbered, with each lint problem under the line it is about. */
export function SourceWithProblems({ source, problems }: { source: string; problems: Problem[] }) {
  const byLine = new Map<number, Problem[]>();
  for (const p of problems) if (p.line > 0) byLine.set(p.line, [...(byLine.get(p.line) ?? []), p]);
  const lines = source.split(/\r?\n/);
  return (
    // tabindex: a box that scrolls must be reachable by keyboard to be scrolled without a mouse.
    <ol class="source" aria-label="Source with problems" tabindex={0}>
      {lines.map((text, i) => {
        const here = byLine.get(i + 1) ?? [];
        return (
          <li id={`line-${i + 1}`} class={here.length > 0 ? "has-problem" : undefined}>
            <span>{i + 1}</span>
            <code>{text || " "}</code>
            {here.map((p) => (
              <span class={`problem ${p.severity}`}>
                ↑ line {p.line}: {p.severity}: {p.message}
              </span>
            ))}
          </li>
        );
      })}
    </ol>
  );
}

export function ProblemList({ problems }: { problems: Problem[] }) {
  if (problems.length === 0) return <p class="muted">No lint problems.</p>;
  return (
    <ul class="problems">
      {problems.map((p) => (
        <li class={p.severity}>
          {p.line > 0 ? <a href={`#line-${p.line}`}>line {p.line}</a> : "whole issue"}: {p.severity}:{" "}
          {p.message}
        </li>
      ))}
    </ul>
  );
}

// Progressive enhancement: with JavaScript, the preview follows the text as it is typed.
const liveScript = `
(() => {
  const area = document.getElementById("markdown");
  const frame = document.getElementById("live-preview");
  const list = document.getElementById("live-problems");
  const form = area && area.form;
  if (!area || !frame || !form) return;
  const csrf = form.querySelector("input[name=csrf]").value;
  let timer, seq = 0;
  const refresh = async () => {
    const mine = ++seq;
    const body = new URLSearchParams({ markdown: area.value });
    const res = await fetch("/admin/issues/preview", { method: "POST", body, headers: { "X-CSRF-Token": csrf } });
    if (mine !== seq || !res.ok) return;
    const data = await res.json();
    if (data.html) frame.srcdoc = data.html;
    list.textContent = "";
    for (const p of data.problems) {
      const li = document.createElement("li");
      li.className = p.severity;
      li.textContent = (p.line > 0 ? "line " + p.line : "whole issue") + ": " + p.severity + ": " + p.message;
      list.append(li);
    }
    if (data.problems.length === 0) list.innerHTML = "<li class=muted>No lint problems.</li>";
    frame.dataset.refreshed = String(mine);
  };
  area.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 500); });
  refresh();
})();
`;

export function EditorPage(props: {
  session: Session;
  markdown: string;
  problems?: Problem[];
  error?: string;
  previousSlug?: string;
}) {
  const problems = props.problems ?? [];
  const errors = problems.filter((p) => p.severity === "error");
  return (
    <Page title="New issue" session={props.session} section="issues">
      <h1>Write an issue</h1>
      {props.error && <Notice kind="bad">{props.error}</Notice>}
      {errors.length > 0 && (
        <Notice kind="bad">
          Not saved: {errors.length} lint error{errors.length === 1 ? "" : "s"} to fix first (marked beside
          their lines below).
        </Notice>
      )}
      <div class="cols">
        <div class="card">
          <form method="post" action="/admin/issues" enctype="multipart/form-data">
            <Csrf session={props.session} />
            <div class="field">
              <label for="markdown">
                Markdown <span class="hint">(front matter, then one ## heading per story)</span>
              </label>
              <textarea id="markdown" name="markdown" class="code" spellcheck={false}>
                {props.markdown}
              </textarea>
            </div>
            <div class="field">
              <label for="file">
                …or upload a Markdown file <span class="hint">(used instead of the text above)</span>
              </label>
              <input id="file" name="file" type="file" accept=".md,.markdown,text/markdown,text/plain" />
            </div>
            <div class="actions">
              <button type="submit">Save and preview</button>
              <a class="button secondary" href="/admin/issues/new?from=last">
                Start from the last issue
              </a>
            </div>
          </form>
        </div>
        <div class="stack">
          <div class="card">
            <h2>Lint</h2>
            <ul class="problems" id="live-problems">
              {problems.length === 0 ? (
                <li class="muted">No lint problems.</li>
              ) : (
                problems.map((p) => (
                  <li class={p.severity}>
                    {p.line > 0 ? `line ${p.line}` : "whole issue"}: {p.severity}: {p.message}
                  </li>
                ))
              )}
            </ul>
          </div>
          <div class="card">
            <h2>Live preview</h2>
            <iframe
              id="live-preview"
              title="Live preview"
              class="frame"
              style="width:100%;height:520px"
              sandbox=""
            />
            <p class="muted small">
              Shown with JavaScript on; the saved issue page has the exact 600 px and 375 px views.
            </p>
          </div>
        </div>
      </div>
      {problems.length > 0 && (
        <div class="card">
          <h2>Problems beside their lines</h2>
          <SourceWithProblems source={props.markdown} problems={problems} />
        </div>
      )}
      <script>{raw(liveScript)}</script>
    </Page>
  );
}
