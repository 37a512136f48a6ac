/** @jsxImportSource hono/jsx */
import type { Db } from "../../db/database.js";
import { clickRate, humanClickersByIssue, type Readership, readershipOf } from "../../tracking/report.js";

type IssuePoint = Awaited<ReturnType<typeof humanClickersByIssue>>[number];

export interface ReadershipView {
  readership: Readership;
  history: IssuePoint[];
}

/**
 * The send's readership and the last issues' human clickers: for a tracked send, or for any send
 * while this install tracks (then an untracked send's card says so); nothing otherwise.
 */
export async function readershipView(
  db: Db,
  sendId: string,
  trackingOn: boolean,
): Promise<ReadershipView | undefined> {
  // Stored verdicts: the worker's upkeep keeps them final (see readershipOf).
  const readership = await readershipOf(db, sendId, { reclassify: false });
  if (!readership.tracked && !trackingOn) return undefined;
  return { readership, history: await humanClickersByIssue(db, 12) };
}

const percent = (share: number | null) => (share === null ? "—" : `${(share * 100).toFixed(1)}%`);

/** Per story, opens, the click-to-delivery rate and events by class; then the plot over the last issues. */
export function ReadershipCard({ view, sendId }: { view: ReadershipView; sendId: string }) {
  const { report: r, source, tracked } = view.readership;
  if (!tracked)
    return (
      <div class="card" id="readership">
        <h2>Readership</h2>
        <p class="muted" id="untracked">
          This send was mailed without tracked links or pixel (tracking was off when it went out).
        </p>
        {view.history.length > 0 && <HistoryPlot points={view.history} current={sendId} />}
      </div>
    );
  return (
    <div class="card" id="readership">
      <h2>Readership</h2>
      <p class="small muted">
        People only, as far as the rules can tell: link scanners, privacy proxies and the canary link are
        counted apart (see <code>digest report</code>).
        {source === "snapshot" && " Raw events are past TRACKING_RETENTION_DAYS: these are the figures kept."}
      </p>
      <dl class="stats">
        <div>
          <dt>click-to-delivery</dt>
          <dd data-readership="rate">{percent(clickRate(r))}</dd>
        </div>
        <div>
          <dt>people who clicked</dt>
          <dd data-readership="human-clickers">{r.humanClickers}</dd>
        </div>
        <div>
          <dt>delivered</dt>
          <dd>{r.delivered}</dd>
        </div>
        <div>
          <dt>opens, human-likely</dt>
          <dd data-readership="opens-human">{r.opens.humanLikely}</dd>
        </div>
        <div>
          <dt>opens, machine or proxy</dt>
          <dd data-readership="opens-machine">{r.opens.machine}</dd>
        </div>
      </dl>
      <table class="stack-narrow" style="margin-top:16px">
        <thead>
          <tr>
            <th>Story</th>
            <th class="num">People who clicked</th>
            <th class="num">All clickers</th>
          </tr>
        </thead>
        <tbody>
          {r.stories.map((s) => (
            <tr>
              <td>{s.headline}</td>
              <td class="num" data-label="people">
                {s.humanClickers} <span class="muted small">people</span>
              </td>
              <td class="num">
                {s.allClickers} <span class="muted small">in all</span>
              </td>
            </tr>
          ))}
          {r.stories.length === 0 && (
            <tr>
              <td colspan={3} class="muted">
                No story links in this send.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <p class="small" style="margin-top:12px">
        Events by class:{" "}
        {(["human", "scanner", "privacy-proxy", "unknown"] as const).map((c, i) => (
          <span style="white-space:nowrap">
            {i > 0 && " · "}
            {c} {r.events[c]}
          </span>
        ))}
      </p>
      {view.history.length > 0 && <HistoryPlot points={view.history} current={sendId} />}
    </div>
  );
}

/** A round, readable top for the y axis: 1, 2 or 5 times a power of ten, at least `max`. */
function niceTop(max: number): number {
  if (max <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

const label = (slug: string) => (slug.length > 11 ? `${slug.slice(0, 10)}…` : slug);

/**
 * Human clickers per issue as horizontal bars, drawn on the server: no script, no chart service.
 * Horizontal, so each issue's name has a row of its own and stays readable on a phone. The same
 * figures are in a visually hidden table for screen readers (the svg is one image with a title).
 */
export function HistoryPlot({ points, current }: { points: IssuePoint[]; current: string }) {
  const width = 400;
  const row = 26;
  const left = 86;
  const right = 36;
  const top = 22;
  const height = top + points.length * row + 8;
  const max = niceTop(Math.max(...points.map((p) => p.humanClickers)));
  const x = (v: number) => left + (v / max) * (width - left - right);
  const ticks = [0, max / 2, max];
  const summary = points.map((p) => `${p.slug}: ${p.humanClickers}`).join(", ");
  return (
    <figure style="margin:16px 0 0">
      <figcaption>
        <strong>People who clicked, last {points.length} issues</strong>{" "}
        <span class="muted small">(oldest first; this send in bold and dark blue)</span>
      </figcaption>
      <svg
        class="plot"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-labelledby="plot-title plot-desc"
        xmlns="http://www.w3.org/2000/svg"
      >
        <title id="plot-title">People who clicked, per issue</title>
        <desc id="plot-desc">{summary}</desc>
        {ticks.map((t) => (
          <g>
            <line x1={x(t)} x2={x(t)} y1={top - 4} y2={height - 8} stroke="#dfe3ea" />
            <text x={x(t)} y={top - 8} text-anchor="middle">
              {Number.isInteger(t) ? t : t.toFixed(1)}
            </text>
          </g>
        ))}
        {points.map((p, i) => {
          const y = top + i * row;
          return (
            <g>
              <text
                class={p.sendId === current ? "value" : undefined}
                x={left - 8}
                y={y + row / 2 + 4}
                text-anchor="end"
              >
                {label(p.slug)}
              </text>
              <rect
                class={p.sendId === current ? "this" : undefined}
                x={left}
                y={y + 4}
                width={Math.max(0, x(p.humanClickers) - left)}
                height={row - 8}
              >
                <title>{`${p.slug}: ${p.humanClickers} people of ${p.delivered} delivered`}</title>
              </rect>
              <text class="value" x={x(p.humanClickers) + 5} y={y + row / 2 + 4}>
                {p.humanClickers}
              </text>
            </g>
          );
        })}
        <line x1={left} x2={left} y1={top - 4} y2={height - 8} stroke="#5b6478" />
      </svg>
      <table class="visually-hidden">
        <caption>People who clicked, per issue</caption>
        <thead>
          <tr>
            <th>Issue</th>
            <th>People who clicked</th>
            <th>Delivered</th>
          </tr>
        </thead>
        <tbody>
          {points.map((p) => (
            <tr>
              <td>{p.slug}</td>
              <td>{p.humanClickers}</td>
              <td>{p.delivered}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
