import { sql } from "drizzle-orm";
import { loadConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { DigestError } from "../errors.js";
import { resolveSend } from "../sending/resolve.js";
import { clickRate, type Readership, readershipOf, reportJson } from "../tracking/report.js";
import { visibleText } from "../visible-text.js";
import { describe } from "./action.js";
import { withDatabase } from "./context.js";

/** `digest report [SEND] [--json]`: exit 1 when there is no such send (or no send at all). */
export async function reportCommand(ref: string | undefined, opts: { json?: boolean }): Promise<number> {
  const { trackClicks, trackOpens } = loadConfig(["trackClicks", "trackOpens"]);
  if (!trackClicks && !trackOpens)
    process.stderr.write("note: TRACK_CLICKS and TRACK_OPENS are off: sends from now on are not tracked\n");
  return withDatabase(async (database) => {
    let sendId: string;
    try {
      sendId = await latestOrResolved(database, ref);
    } catch (error) {
      if (!(error instanceof DigestError) || error.kind === "unavailable") throw error;
      process.stderr.write(`${describe(error)}\n`);
      return 1;
    }
    const readership = await readershipOf(database.db, sendId);
    const [send] = await database.query<{ slug: string; subject: string; is_test: boolean }>(
      sql`select i.slug, i.subject, s.is_test from sends s join issues i on i.id = s.issue_id where s.id = ${sendId}`,
    );
    if (!readership.tracked)
      process.stderr.write(
        "note: this send carried no tracked links or pixel (TRACK_CLICKS and TRACK_OPENS were off when it went out), so there is nothing to count\n",
      );
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(reportJson(readership.report))}\n`
        : `${reportText(readership, send ?? { slug: "?", subject: "?", is_test: false })}\n`,
    );
    return 0;
  });
}

/** Nothing or "latest" means the latest send readers got: a test send has no readership to speak of. */
async function latestOrResolved(database: Database, ref: string | undefined): Promise<string> {
  const text = ref?.trim();
  if (text !== undefined && text !== "" && text !== "latest") return resolveSend(database, text);
  const [row] = await database.query<{ id: string }>(
    sql`select id from sends where not is_test order by created_at desc, id desc limit 1`,
  );
  if (!row) throw new DigestError("not_found", "there is no send yet (digest send ISSUE starts one)");
  return row.id;
}

export function reportText(
  { report, source }: Readership,
  send: { slug: string; subject: string; is_test: boolean },
): string {
  const rate = clickRate(report);
  const lines = [
    `Readership of ${visibleText(send.slug)}${send.is_test ? " (test send)" : ""}: ${visibleText(send.subject)}`,
    `send ${report.sendId}, ${report.delivered} delivered`,
    `click-to-delivery rate: ${rate === null ? "n/a" : `${(rate * 100).toFixed(1)}%`} (${report.humanClickers} of ${report.delivered} readers clicked through, people only)`,
    "",
  ];
  const headlines = report.stories.map((s) => visibleText(s.headline));
  const width = Math.min(60, Math.max(5, ...headlines.map((h) => h.length)));
  lines.push(`${"Story".padEnd(width)}  ${"People".padStart(6)}  ${"All clickers".padStart(12)}`);
  report.stories.forEach((story, i) => {
    const headline = headlines[i] ?? "";
    const cut = headline.length > width ? `${headline.slice(0, width - 1)}…` : headline;
    lines.push(
      `${cut.padEnd(width)}  ${String(story.humanClickers).padStart(6)}  ${String(story.allClickers).padStart(12)}`,
    );
  });
  if (report.stories.length === 0) lines.push("(no story links in this send)");
  lines.push(
    "",
    `opens: ${report.opens.humanLikely} human-likely, ${report.opens.machine} machine or proxy only`,
    `events: human ${report.events.human}, scanner ${report.events.scanner}, privacy-proxy ${report.events["privacy-proxy"]}, unknown ${report.events.unknown}`,
  );
  if (source === "snapshot")
    lines.push("(raw events past TRACKING_RETENTION_DAYS were purged: these are the figures kept from them)");
  return lines.join("\n");
}
