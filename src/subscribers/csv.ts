import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { stringify } from "csv-stringify";
import { inArray, type SQL, sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { subscribers } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { normaliseAddress, normaliseName } from "./address.js";
import { type Columns, findColumns, nameOf } from "./csv-dialect.js";
import { csvRecords } from "./csv-records.js";
import { mailRequest, type Notify } from "./notify.js";

/**
 * CSV in and out, streamed. Import reads the whole file before anything is kept: rows go into the
 * table a batch at a time inside one transaction while the parser reads on, and one bad row
 * anywhere rolls all of it back, so a file is imported whole or not at all (and every bad row is
 * listed). Import only adds: an address that is already known (whatever its status) or suppressed
 * is skipped, never changed.
 */
export interface ImportOptions {
  /** New rows get a confirmation mail and stay pending until clicked. */
  pending?: boolean;
  notify?: Notify;
  batchSize?: number;
}

export interface ImportReport {
  /** 0 whenever a row is invalid: nothing is imported then. */
  imported: number;
  /** Known or suppressed addresses, and repeats within the file. */
  skipped: number;
  /** Rows refused, by line number, with the value (the first 1,000; `invalidRows` counts them all). */
  errors: { line: number; value: string; message: string }[];
  invalidRows: number;
}

const maxReportedErrors = 1000;

/** A file with a bad row: the transaction is rolled back with this. */
class BadRows extends Error {}

export async function importSubscribers(
  db: Db,
  input: Readable,
  options: ImportOptions = {},
  now = new Date(),
): Promise<ImportReport> {
  if (options.pending && !options.notify) throw new Error("a pending import needs a notifier");
  const batchSize = options.batchSize ?? 2000;
  const report: ImportReport = { imported: 0, skipped: 0, errors: [], invalidRows: 0 };
  const inserted: string[] = [];
  const refuse = (line: number, value: string, message: string) => {
    report.invalidRows++;
    if (report.errors.length < maxReportedErrors) report.errors.push({ line, value, message });
  };
  const nextId = orderedIds(now);
  try {
    await db.transaction(async (tx) => {
      let batch: Row[] = [];
      // At most one batch in the database while the next is read: memory stays flat however fast
      // the file arrives.
      let writing: Promise<void> = Promise.resolve();
      const write = async (rows: Row[]) => {
        await writing;
        writing = insertBatch(tx as unknown as Db, rows, options, now).then((ids) => {
          report.imported += ids.count;
          report.skipped += rows.length - ids.count;
          if (options.pending) for (const id of ids.ids) inserted.push(id);
        });
        // Awaited before the next write and at the end; this only keeps it from being "unhandled".
        writing.catch(() => {});
      };
      let columns: Columns | undefined;
      for await (const records of csvRecords(input)) {
        for (const { fields, line } of records) {
          if (!columns) {
            columns = findColumns(fields);
            continue;
          }
          const raw = fields[columns.email] ?? "";
          let row: Row;
          try {
            const name = nameOf(fields, columns);
            row = {
              i: nextId(),
              e: fastAddress(raw) ?? normaliseAddress(raw),
              n: name === undefined || name === "" ? null : (normaliseName(name) ?? null),
            };
          } catch (error) {
            refuse(line, raw, error instanceof Error ? error.message : String(error));
            continue;
          }
          if (report.invalidRows > 0) continue;
          batch.push(row);
          if (batch.length >= batchSize) {
            await write(batch);
            batch = [];
          }
        }
      }
      if (!columns)
        throw new DigestError("invalid", "line 1: the file is empty: it needs a header with an email column");
      if (report.invalidRows === 0 && batch.length > 0) await write(batch);
      await writing;
      if (report.invalidRows > 0) throw new BadRows();
    });
  } catch (error) {
    if (error instanceof BadRows) return { ...report, imported: 0, skipped: 0 };
    if (error instanceof DigestError) throw error;
    throw new DigestError("invalid", `cannot import: ${(error as Error).message}`, { cause: error });
  }
  if (options.pending && options.notify) await notifyPending(db, options.notify, inserted, now);
  return report;
}

interface Row {
  i: string;
  e: string;
  n: string | null;
}

/**
 * Time-ordered ids (UUIDv7 layout: import time, then a counter, then a random tail) for imported
 * rows. Random v4 ids land all over the primary key index: at a million rows that index upkeep
 * was a third of the import time. Version 7 never equals a v4 id, and the random tail keeps two
 * imports in the same millisecond apart.
 */
export function orderedIds(now: Date): () => string {
  const ts = now.getTime().toString(16).padStart(12, "0");
  let tail = randomBytes(6).toString("hex");
  let n = 0;
  return () => {
    if (n >= 2 ** 26) {
      tail = randomBytes(6).toString("hex");
      n = 0;
    }
    const c = n++;
    const a = (c >>> 14).toString(16).padStart(3, "0");
    const b = (0x8000 | (c & 0x3fff)).toString(16);
    return `${ts.slice(0, 8)}-${ts.slice(8)}-7${a}-${b}-${tail}`;
  };
}

// The common case, decided without the full parser: ASCII local part of letters, digits and
// . _ + -, a lower-case ASCII domain (no punycode to check). Exactly what normaliseAddress returns
// unchanged; anything else goes through it.
const simpleAddress =
  /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

function fastAddress(raw: string): string | undefined {
  if (raw.length > 254 || !simpleAddress.test(raw) || raw.includes("xn--")) return undefined;
  return raw.indexOf("@") <= 64 ? raw : undefined;
}

async function insertBatch(db: Db, rows: Row[], options: ImportOptions, now: Date) {
  const status = options.pending ? "pending" : "active";
  const at = now.toISOString();
  // Any existing row, whatever its status, wins: import never changes a known address. A repeat
  // within the file meets the row its first occurrence inserted, in this same transaction.
  const inserted = sql`insert into subscribers (id, email, name, status, consent_source, consent_at, last_confirmation_at)
      select r.i, r.e, r.n, ${status}, 'import', ${at}::timestamptz, ${options.pending ? at : null}::timestamptz
      from json_to_recordset(${JSON.stringify(rows)}::json) as r(i uuid, e text, n text)
      where not exists (select 1 from suppressions x
        where x.address_hash = encode(sha256(convert_to(lower(r.e), 'UTF8')), 'hex'))
      on conflict do nothing
      returning id`;
  if (options.pending) {
    const ids = await query<{ id: string }>(db, sql`with ins as (${inserted}) select id from ins`);
    return { count: ids.length, ids: ids.map((r) => r.id) };
  }
  const [row] = await query<{ n: number }>(
    db,
    sql`with ins as (${inserted}) select count(*)::int as n from ins`,
  );
  return { count: row?.n ?? 0, ids: [] };
}

/** Confirmation mails for a pending import, after it committed; rows whose mail failed go again. */
async function notifyPending(db: Db, notify: Notify, ids: string[], now: Date) {
  for (let i = 0; i < ids.length; i += 1000) {
    try {
      await notify(ids.slice(i, i + 1000).map((id) => mailRequest("confirm", id, now)));
    } catch (error) {
      // Without their mail these rows could never be confirmed: take them back out.
      const rest = ids.slice(i);
      for (let j = 0; j < rest.length; j += 1000)
        await db.delete(subscribers).where(inArray(subscribers.id, rest.slice(j, j + 1000)));
      throw new DigestError(
        "unavailable",
        `cannot queue confirmation mails; ${rest.length} rows taken back out`,
        {
          cause: error,
        },
      );
    }
  }
}

/**
 * Every subscriber as CSV (email, name, status, consent...), oldest subscription first, read
 * through a cursor in one snapshot so a million rows are sorted once and never held in memory.
 * `excel` starts the file with a UTF-8 byte-order mark: without it Excel reads 山田 as mojibake.
 */
export function exportSubscribers(db: Db, options: { pageSize?: number; excel?: boolean } = {}): Readable {
  const pageSize = options.pageSize ?? 1000;
  const out = stringify({
    header: true,
    bom: options.excel === true,
    columns: ["email", "name", "status", "consent_source", "consent_at", "confirmed_at", "created_at"],
    // Every data cell quoted, so no spreadsheet reads a separator inside one as the end of it; the
    // header is ours and stays bare.
    cast: { string: (value, ctx) => (ctx.header ? value : { value, quoted: true, quoted_empty: true }) },
  });
  const iso = (v: string | Date | null) => (v === null ? "" : new Date(v).toISOString());
  const pump = () =>
    db.transaction(async (tx) => {
      const run = async <T>(statement: SQL) => await query<T>(tx, statement);
      await run(sql`declare subscriber_export no scroll cursor for
        select email, name, status, consent_source, consent_at, confirmed_at, created_at from subscribers
        order by coalesce(consent_at, created_at), created_at, id`);
      for (;;) {
        const rows = await run<{
          email: string;
          name: string | null;
          status: string;
          consent_source: string;
          consent_at: string | Date | null;
          confirmed_at: string | Date | null;
          created_at: string | Date;
        }>(sql.raw(`fetch ${Math.trunc(pageSize)} from subscriber_export`));
        for (const r of rows) {
          const ok = out.write([
            spreadsheetSafe(r.email),
            spreadsheetSafe(r.name ?? ""),
            r.status,
            r.consent_source,
            iso(r.consent_at),
            iso(r.confirmed_at),
            iso(r.created_at),
          ]);
          // A client that hangs up destroys the stream: stop reading instead of waiting for "drain".
          if (!ok) await new Promise((resolve) => out.once("drain", resolve).once("close", resolve));
          if (out.destroyed) return;
        }
        if (rows.length < pageSize) break;
      }
      await run(sql`close subscriber_export`);
      out.end();
    });
  pump().catch((error) => out.destroy(error));
  return out;
}

/**
 * A cell a spreadsheet would run as a formula gets a quote mark before its formula lead (OWASP "CSV
 * injection"): names are typed by readers, and staff open the export in spreadsheets. A lead counts
 * at the start of the cell and after any separator-like character inside it (`,` `;` tab `|` and
 * line breaks), because a spreadsheet set to split on `;` (most of Europe), tabs or pipes cuts
 * "Bob;=cmd|..." into a second cell that starts with `=`, quotes or not. Spaces before the lead do
 * not hide it; the full-width forms count because Apple Numbers folds them to ASCII.
 */
export function spreadsheetSafe(value: string): string {
  return value.replace(/(^|[,;|\t\r\n])( *)(?=[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20])/g, "$1$2'");
}
