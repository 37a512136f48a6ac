/** The console's one stylesheet, served from /admin/static/console.css. No framework, no build. */
export const consoleCss = `
@font-face { font-family: "Noto Sans JP"; font-weight: 400; font-display: swap;
  src: url(/admin/static/noto-sans-jp-400.ttf) format("truetype");
  unicode-range: U+3000-30FF, U+3400-4DBF, U+4E00-9FFF, U+FF00-FFEF; }
@font-face { font-family: "Noto Sans JP"; font-weight: 700; font-display: swap;
  src: url(/admin/static/noto-sans-jp-700.ttf) format("truetype");
  unicode-range: U+3000-30FF, U+3400-4DBF, U+4E00-9FFF, U+FF00-FFEF; }
:root {
  --ink: #1d2433; --muted: #5b6478; --line: #dfe3ea; --bg: #f5f6f8; --card: #fff;
  --accent: #2d5bd7; --accent-ink: #fff; --ok: #1f8a4c; --warn: #b7791f; --bad: #c53030;
  --radius: 8px; --gap: 16px;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans JP", sans-serif;
  color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; min-width: 0; }
a { color: var(--accent); }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 var(--gap); overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 0 0 12px; }
p { margin: 0 0 12px; }
code, pre, textarea.code { font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.top { background: #1d2433; color: #fff; }
.top-in { max-width: 1180px; margin: 0 auto; padding: 10px 20px; display: flex; flex-wrap: wrap;
  align-items: center; gap: 8px 20px; }
.brand { font-weight: 700; color: #fff; text-decoration: none; margin-right: 8px; }
.nav { display: flex; flex-wrap: wrap; gap: 4px 14px; flex: 1; }
.nav a { color: #c9d2e6; text-decoration: none; padding: 4px 0; border-bottom: 2px solid transparent; }
.nav a.on, .nav a:hover { color: #fff; border-bottom-color: #7ea2ff; }
.who { display: flex; align-items: center; gap: 10px; color: #c9d2e6; font-size: 13px; }
.who a { color: #c9d2e6; }
.who form { margin: 0; }
.who button { background: transparent; color: #fff; border: 1px solid #4a5570; padding: 3px 10px; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 48px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius);
  padding: 20px; margin-bottom: var(--gap); min-width: 0; }
.grid { display: grid; gap: var(--gap); grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); }
.grid > .card { margin-bottom: 0; }
.cols { display: grid; gap: var(--gap); grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); align-items: start; }
.stack > * + * { margin-top: var(--gap); }
.stats { display: flex; flex-wrap: wrap; gap: 10px 28px; margin: 0; }
.stats div { min-width: 70px; }
.stats dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.stats dd { margin: 0; font-size: 1.4rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.small { font-size: 13px; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
td { overflow-wrap: break-word; font-size: 14px; }
td.small { font-size: 14px; color: var(--muted); }
td.nowrap { white-space: nowrap; }
.actions select { width: auto; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:last-child td { border-bottom: 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
  background: #eef1f6; color: var(--muted); white-space: nowrap; }
.b-active, .b-done, .b-sent, .b-published { background: #e3f4ea; color: var(--ok); }
.b-running, .b-scheduled, .b-sending, .b-queued { background: #e6edff; color: var(--accent); }
.b-paused, .b-deferred, .b-pending, .b-draft, .b-soft { background: #fdf1dc; color: var(--warn); }
.b-failed, .b-bounced, .b-complained, .b-cancelled, .b-hard, .b-complaint { background: #fde4e4; color: var(--bad); }
label { display: block; font-weight: 600; font-size: 13px; margin: 0 0 4px; }
.field { margin-bottom: 14px; }
.hint { font-weight: 400; color: var(--muted); font-size: 13px; }
input[type=text], input[type=email], input[type=password], input[type=search], input[type=number],
input[type=datetime-local], select, textarea {
  width: 100%; max-width: 100%; padding: 8px 10px; border: 1px solid #c7cdd8; border-radius: 6px;
  font: inherit; background: #fff; color: var(--ink); }
textarea { min-height: 8rem; resize: vertical; }
textarea.code { min-height: 28rem; }
input:focus, select:focus, textarea:focus { outline: 2px solid #9db5f5; border-color: var(--accent); }
button, .button { display: inline-block; font: inherit; font-weight: 600; padding: 8px 14px; border-radius: 6px;
  border: 1px solid var(--accent); background: var(--accent); color: var(--accent-ink); cursor: pointer;
  text-decoration: none; line-height: 1.3; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
button.link { background: none; border: 0; color: var(--accent); padding: 0; font-weight: 400; text-decoration: underline; }
.row { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; }
.row > .field { flex: 1 1 180px; margin-bottom: 0; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.actions form { margin: 0; }
.notice { border-left: 4px solid var(--accent); background: #eef3ff; padding: 10px 14px; border-radius: 6px; margin-bottom: var(--gap); overflow-wrap: anywhere; }
.notice.bad { border-color: var(--bad); background: #fdecec; }
.notice.ok { border-color: var(--ok); background: #e8f6ee; }
.notice.warn { border-color: var(--warn); background: #fdf4e3; }
.notice > :last-child, .notice form > :last-child { margin-bottom: 0; }
.notice form { margin-top: 12px; }
input.figure { max-width: 12rem; }
.bar { height: 14px; background: #e8ebf1; border-radius: 999px; overflow: hidden; display: flex; }
.bar span { display: block; height: 100%; background: var(--ok); transition: width .4s; }
.bar span.fail { background: var(--bad); }
.previews { display: flex; flex-wrap: wrap; gap: var(--gap); align-items: flex-start; }
.frame { border: 1px solid var(--line); border-radius: 6px; background: #fff; max-width: 100%; }
.frame-wide { width: 600px; height: 720px; }
.frame-phone { width: 375px; height: 720px; }
.plain { white-space: pre-wrap; overflow-wrap: anywhere; background: #fafbfc; border: 1px solid var(--line);
  border-radius: 6px; padding: 12px; max-height: 420px; overflow: auto; margin: 0; }
.source { counter-reset: line; list-style: none; padding: 0; margin: 0; border: 1px solid var(--line);
  border-radius: 6px; max-height: 420px; overflow: auto; background: #fafbfc; }
.source li { display: grid; grid-template-columns: 3.2em minmax(0, 1fr); }
.source li > span:first-child { color: #9aa3b5; text-align: right; padding-right: 8px; user-select: none; }
.source li > code { white-space: pre-wrap; overflow-wrap: anywhere; }
.source li.has-problem { background: #fff3f3; }
.source .problem { grid-column: 2; color: var(--bad); font-size: 12px; font-weight: 600; padding: 0 0 4px; }
.source .problem.warning { color: var(--warn); }
.problems { margin: 0; padding-left: 1.2em; }
.problems .error { color: var(--bad); }
.problems .warning { color: var(--warn); }
td .actions button { padding: 4px 10px; font-size: 13px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.plot { display: block; width: 100%; height: auto; max-width: 420px; margin-top: 8px; }
.plot text { font: 13px system-ui, sans-serif; fill: var(--muted); }
.plot .value { fill: var(--ink); font-weight: 600; }
.plot .this { fill: var(--accent); }
.plot rect { fill: #9db5f5; }
.login { max-width: 400px; margin: 8vh auto; }
.pager { display: flex; gap: 12px; align-items: center; margin-top: 12px; }
@media (max-width: 820px) {
  .cols { grid-template-columns: minmax(0, 1fr); }
  main { padding: 16px 12px 40px; }
  .card { padding: 14px; }
  .frame-wide { width: 100%; }
  .frame-phone { width: 100%; max-width: 375px; }
  .who { width: 100%; justify-content: space-between; }
  .brand { flex-basis: 100%; }
  .nav { gap: 2px 14px; }
  .hide-narrow { display: none; }
  table.stack-narrow thead { display: none; }
  table.stack-narrow tr { display: block; padding: 10px 0; border-bottom: 1px solid var(--line); }
  table.stack-narrow tr:last-child { border-bottom: 0; }
  table.stack-narrow td { display: block; border: 0; padding: 2px 0; }
  table.stack-narrow td.hide-narrow { display: none; }
}
`;
