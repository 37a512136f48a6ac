import { spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { digestBin, repoRoot } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";

/**
 * A million-row import, as staff run it: one bad row near the end and nothing is imported, the row
 * is named; the fixed file imports whole, streaming (peak RSS measured by /usr/bin/time).
 */
const database = await createTestDatabase();
const dir = mkdtempSync(join(tmpdir(), "digest-million-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rows = 1_000_000;
const badLine = 999_999;

async function writeCsv(file: string, bad: boolean): Promise<void> {
  const out = createWriteStream(file);
  out.write("email,name\n");
  for (let i = 0; i < rows; i += 10_000) {
    let chunk = "";
    for (let j = i; j < i + 10_000; j++) {
      // Line numbers count the header as line 1: row j is on line j + 2.
      chunk +=
        bad && j + 2 === badLine
          ? "reader-999999-at-nowhere,Broken Row\n"
          : `reader${j}@example${j % 97}.org,Reader ${j}\n`;
    }
    if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

function importFile(file: string) {
  const result = spawnSync(
    "/usr/bin/time",
    ["-f", "%M %e", process.execPath, digestBin, "subscribers", "import", file],
    {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: database.url },
      encoding: "utf8",
      timeout: 200_000,
    },
  );
  const [rssKb, seconds] = (result.stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    rssMb: (rssKb ?? 0) / 1024,
    seconds: seconds ?? 0,
  };
}

const subscriberCount = async () =>
  (await database.query<{ n: number }>(sql`select count(*)::int as n from subscribers`))[0]?.n;

describe("importing a 1,000,000-row CSV", () => {
  it("with one bad row at line 999,999 imports nothing and names the row", async () => {
    const file = join(dir, "bad.csv");
    await writeCsv(file, true);
    const r = importFile(file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:${badLine}: "reader-999999-at-nowhere": `);
    expect(r.stderr).toContain("nothing imported: 1 bad row");
    expect(JSON.parse(r.stdout)).toEqual({ imported: 0, skipped: 0, invalid: 1 });
    expect(await subscriberCount()).toBe(0);
  }, 240_000);

  it("clean, imports every row streaming, with peak RSS under 200 MB", async () => {
    const file = join(dir, "clean.csv");
    await writeCsv(file, false);
    const r = importFile(file);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ imported: rows, skipped: 0, invalid: 0 });
    expect(await subscriberCount()).toBe(rows);
    const perSecond = Math.round(rows / r.seconds);
    process.stderr.write(
      `import-million: ${perSecond} rows/s (whole command), peak RSS ${r.rssMb.toFixed(0)} MB\n`,
    );
    expect(r.rssMb).toBeLessThanOrEqual(200);
    // A floor against regressions (the row-by-row importer did ~5,000 rows/s); the 50,000 rows/s
    // target is measured by `npm run bench` on a quiet machine.
    expect(perSecond).toBeGreaterThan(15_000);
  }, 240_000);
});
