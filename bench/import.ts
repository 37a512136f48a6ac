import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { openDatabase } from "../src/db/connect.js";
import { migrateDatabase } from "../src/db/migrate.js";
import { importSubscribers } from "../src/subscribers/csv.js";

/**
 * Imports a generated CSV of `rows` readers (default 1,000,000) into a fresh database on the shared
 * Postgres and prints rows/s and the process's peak RSS. The CSV is generated as a stream, so the
 * figure is the importer's memory, not the file's. Targets: >= 50,000 rows/s, peak RSS <= 200 MB.
 */
export async function benchImport(
  rows = 1_000_000,
): Promise<{ rows: number; rowsPerSecond: number; peakRssMb: number }> {
  const serverUrl = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const name = `digest_bench_${process.pid}_${Date.now()}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString() });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    await migrateDatabase(database);
    const csv = Readable.from(
      (function* () {
        yield "email,name\n";
        // Lines of 1,000 rows: a real file arrives in 64 KB chunks, not one row at a time.
        for (let i = 0; i < rows; i += 1000) {
          let chunk = "";
          for (let j = i; j < Math.min(rows, i + 1000); j++)
            chunk += `reader${j}@example${j % 97}.org,Reader ${j}\n`;
          yield chunk;
        }
      })(),
    );
    const started = performance.now();
    const report = await importSubscribers(database.db, csv);
    const seconds = (performance.now() - started) / 1000;
    peak = Math.max(peak, process.memoryUsage().rss);
    if (report.imported !== rows) throw new Error(`imported ${report.imported} of ${rows}`);
    const result = {
      rows,
      rowsPerSecond: Math.round(rows / seconds),
      peakRssMb: Math.round(peak / 1024 / 1024),
    };
    process.stdout.write(
      `import: ${rows} rows in ${seconds.toFixed(1)} s = ${result.rowsPerSecond} rows/s, peak RSS ${result.peakRssMb} MB\n`,
    );
    return result;
  } finally {
    clearInterval(sampler);
    await database.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await benchImport(process.argv[2] ? Number(process.argv[2]) : undefined);
}
