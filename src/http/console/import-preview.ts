import { Readable } from "node:stream";
import { sql } from "drizzle-orm";
import { type Db, query } from "../../db/database.js";
import { addressKey, normaliseAddress, normaliseName } from "../../subscribers/address.js";
import { type Columns, findColumns, nameOf } from "../../subscribers/csv-dialect.js";
import { csvRecords } from "../../subscribers/csv-records.js";

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
  // The import's own reader and header rules (delimiter, BOM, "Email Address", First + Last Name),
  // so the preview judges a file exactly as the import will.
  const records: { line: number; email: string; name: string }[] = [];
  try {
    let columns: Columns | undefined;
    for await (const chunk of csvRecords(Readable.from([csv]))) {
      for (const { fields, line } of chunk) {
        if (!columns) {
          columns = findColumns(fields);
          continue;
        }
        records.push({ line, email: fields[columns.email] ?? "", name: nameOf(fields, columns) ?? "" });
      }
    }
    if (!columns)
      return { ...preview, headerError: "the file is empty: it needs a header with an email column" };
  } catch (error) {
    return { ...preview, headerError: (error as Error).message.slice(0, 300) };
  }
  const seen = new Set<string>();
  const keys: string[] = [];
  for (const record of records) {
    preview.total++;
    let verdict = "new";
    let ok = true;
    try {
      const email = normaliseAddress(record.email);
      normaliseName(record.name === "" ? undefined : record.name);
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
      preview.rows.push({ line: record.line, email: record.email, name: record.name, verdict, ok });
  }
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
