import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { openDatabase } from "../src/db/connect.js";
import type { Database } from "../src/db/database.js";
import { migrateDatabase } from "../src/db/migrate.js";
import { issues } from "../src/db/schema.js";
import { parseIssue } from "../src/issues/parse.js";
import { searchArchive } from "../src/issues/search.js";
import { indexIssue } from "../src/issues/story-index.js";

const root = join(import.meta.dirname, "..");

/** The queries timed: an English word, a Japanese term, a phrase, a word pair, a single kanji. */
export const benchQueries = ["Japan", "日米", '"critical minerals"', "hypersonic missile", "米"];

export interface SearchFigures {
  engine: string;
  issues: number;
  stories: number;
  /**
   * Per query: median and 95th percentile of the wall time in ms, the median CPU time of this
   * process (on PGlite that is the database's work too; on a busy machine the CPU time is what the
   * search itself costs, the wall time adds the wait for a core), and how many stories matched.
   */
  queries: { query: string; medianMs: number; p95Ms: number; cpuMs: number; matches: number }[];
  /** The median of `select 1` on the same connection: what any query costs on this machine now. */
  roundTripMs: number;
  /** The machine's 1-minute load average during the runs (the benchmark shares its cores). */
  load: number;
}

const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;
const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * `count` published issues built from the seed issue (English, five stories) and the PDF test
 * fixture (Japanese and mixed text): each issue carries one of them under its own volume, every
 * third both, and each headline the issue's number, so no two stories are the same.
 */
export async function fillArchive(database: Database, count: number): Promise<number> {
  const english = readFileSync(join(root, "examples/issues/vol-2-6.md"), "utf8");
  const japanese = readFileSync(join(root, "test/issues/fixtures/vol-9-1.md"), "utf8");
  const body = (source: string) => source.slice(source.indexOf("\n---", 4) + 4);
  let stories = 0;
  for (let n = 1; n <= count; n++) {
    const parts = n % 3 === 0 ? [english, japanese] : n % 3 === 1 ? [english] : [japanese];
    const text = parts
      .map(body)
      .join("\n")
      .replace(/^## (.+)$/gm, `## $1 (${n})`);
    const date = new Date(Date.UTC(2020, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
    const source = `---\nvolume: "100.${n}"\ndate: ${date}\nsubject: "Alliance Digest Vol 100.${n}"\n---\n${text}`;
    const { issue } = parseIssue(source);
    if (!issue) throw new Error(`bench issue ${n} does not parse`);
    const [row] = await database.db
      .insert(issues)
      .values({
        slug: issue.slug,
        volume: issue.volume,
        subject: issue.subject,
        issueDate: issue.date,
        source,
        html: "",
        text: "",
        publishedAt: new Date(),
      })
      .returning({ id: issues.id });
    if (!row) throw new Error("insert returned nothing");
    await indexIssue(database.db, row.id, issue);
    stories += issue.stories.length;
  }
  await database.query(sql`analyze archive_stories`);
  return stories;
}

async function timeQueries(database: Database, runs: number): Promise<SearchFigures["queries"]> {
  const figures: SearchFigures["queries"] = [];
  for (const query of benchQueries) {
    const times: number[] = [];
    const cpu: number[] = [];
    let matches = 0;
    // Three untimed runs first: the first query of a connection plans and warms caches.
    for (let i = 0; i < runs + 3; i++) {
      const started = performance.now();
      const used = process.cpuUsage();
      const found = await searchArchive(database.db, query);
      const spent = process.cpuUsage(used);
      if (i >= 3) {
        times.push(performance.now() - started);
        cpu.push((spent.user + spent.system) / 1000);
      }
      matches = found.total;
    }
    figures.push({
      query,
      medianMs: round(percentile(times, 0.5)),
      p95Ms: round(percentile(times, 0.95)),
      cpuMs: round(percentile(cpu, 0.5)),
      matches,
    });
  }
  return figures;
}

/** Times archive search over `count` published issues on a fresh Postgres database and on PGlite. */
export async function benchSearch(count = 500, runs = 40): Promise<SearchFigures[]> {
  const serverUrl = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const name = `digest_bench_search_${process.pid}_${Date.now()}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const results: SearchFigures[] = [];
  try {
    await admin.unsafe(`create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    for (const target of [{ url: url.toString() }, { memory: true as const }]) {
      const database = await openDatabase(target);
      try {
        await migrateDatabase(database);
        const stories = await fillArchive(database, count);
        const queries = await timeQueries(database, runs);
        const trips: number[] = [];
        for (let i = 0; i < runs; i++) {
          const started = performance.now();
          await database.query(sql`select 1`);
          trips.push(performance.now() - started);
        }
        const roundTripMs = round(percentile(trips, 0.5));
        const load = Math.round((loadavg()[0] ?? 0) * 10) / 10;
        results.push({ engine: database.kind, issues: count, stories, queries, roundTripMs, load });
      } finally {
        await database.close();
      }
    }
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
  return results;
}

export function formatSearchFigures(results: SearchFigures[]): string {
  const lines = ["archive search benchmark (target: < 50 ms per query at 500 issues):"];
  for (const r of results) {
    lines.push(
      `  ${r.engine}, ${r.issues} published issues, ${r.stories} stories (select 1: ${r.roundTripMs} ms; load average ${r.load}):`,
    );
    for (const q of r.queries)
      lines.push(
        `    ${q.query.padEnd(20)} median ${q.medianMs} ms, p95 ${q.p95Ms} ms, CPU ${q.cpuMs} ms (${q.matches} stories match)`,
      );
  }
  return `${lines.join("\n")}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 500);
  process.stdout.write(formatSearchFigures(await benchSearch(count)));
  process.exit(0);
}
