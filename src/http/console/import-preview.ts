import { parse } from "csv-parse/sync";
import { sql } from "drizzle-orm";
import { type Db, query } from "../../db/database.js";
import { addressKey, normaliseAddress, normaliseName } from "../../subscribers/address.js";

/**
 * What an import would do, worked out before anything is written: the first rows with a verdict
 * each, and counts for the whole file. The import itself (importSubscribers) decides again.
 */
export interface ImportPreview {
  headerError?: string;
  rows: { line: number; email: string; name: string; verdict: string; ok: boolean }[];
  total: number;
  valid: number;
  invalid: number;
  repeated: number;
  known: number;
}

export async function previewImport(db: Db, csv: string, shown = 10): Promise<ImportPreview> {
  const preview: ImportPreview = { rows: [], total: 0, valid: 0, invalid: 0, repeated: 0, known: 0 };
  let records: Record<string, string>[];
  try {
    records = parse(csv, {
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      max_record_size: 64 * 1024,
    });
  } catch (error) {
    return { ...preview, headerError: `the file is not CSV: ${(error as Error).message.slice(0, 200)}` };
  }
  if (records.length > 0 && !("email" in (records[0] ?? {})))
    return { ...preview, headerError: 'the CSV needs an "email" column' };
  const seen = new Set<string>();
  const keys: string[] = [];
  records.forEach((record, i) => {
    preview.total++;
    let verdict = "new";
    let ok = true;
    try {
      const email = normaliseAddress(record.email);
      normaliseName(record.name);
      const key = addressKey(email);
      if (seen.has(key)) {
        preview.repeated++;
        verdict = "repeated in the file (skipped)";
        ok = false;
      } else {
        seen.add(key);
        keys.push(key);
        preview.valid++;
      }
    } catch (error) {
      preview.invalid++;
      verdict = error instanceof Error ? error.message : "invalid";
      ok = false;
    }
    if (preview.rows.length < shown)
      preview.rows.push({ line: i + 2, email: record.email ?? "", name: record.name ?? "", verdict, ok });
  });
  for (let i = 0; i < keys.length; i += 5000) {
    const chunk = keys.slice(i, i + 5000);
    const [row] = await query<{ n: number }>(
      db,
      sql`select count(*)::int as n from subscribers where lower(email) in (select jsonb_array_elements_text(${JSON.stringify(chunk)}::jsonb))`,
    );
    preview.known += row?.n ?? 0;
  }
  return preview;
}
