import type { Readable } from "node:stream";
import { parse } from "csv-parse";
import { stringify } from "csv-stringify";
import { asc, gt, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { type Subscriber, subscribers } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { normaliseAddress, normaliseName } from "./address.js";
import { mailRequest, type Notify } from "./notify.js";
import { addressHash, suppressedHashes } from "./suppression.js";

/**
 * CSV in and out, streamed: rows are read, checked and inserted a batch at a time, so a 100k-row
 * file never sits in memory. Import only adds: an address that is already known (whatever its
 * status) or suppressed is skipped, never changed.
 */
export interface ImportOptions {
  /** New rows get a confirmation mail and stay pending until clicked. */
  pending?: boolean;
  notify?: Notify;
  batchSize?: number;
}

export interface ImportReport {
  imported: number;
  /** Known or suppressed addresses, and repeats within the file. */
  skipped: number;
  /** Rows refused, by line number (the first 1,000; `invalidRows` counts them all). */
  errors: { line: number; message: string }[];
  invalidRows: number;
}

const maxReportedErrors = 1000;

export async function importSubscribers(
  db: Db,
  input: Readable,
  options: ImportOptions = {},
  now = new Date(),
): Promise<ImportReport> {
  if (options.pending && !options.notify) throw new Error("a pending import needs a notifier");
  const batchSize = options.batchSize ?? 1000;
  const report: ImportReport = { imported: 0, skipped: 0, errors: [], invalidRows: 0 };
  const refuse = (line: number, message: string) => {
    report.invalidRows++;
    if (report.errors.length < maxReportedErrors) report.errors.push({ line, message });
  };
  const parser = input.pipe(
    parse({
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
      max_record_size: 64 * 1024,
    }),
  );
  input.on("error", (error) => parser.destroy(error));
  let batch: { email: string; name: string | null }[] = [];
  let checkedHeader = false;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string | undefined>;
      info: { lines: number };
    }>) {
      if (!checkedHeader) {
        if (!("email" in record)) throw new DigestError("invalid", 'line 1: the CSV needs an "email" column');
        checkedHeader = true;
      }
      try {
        batch.push({ email: normaliseAddress(record.email), name: normaliseName(record.name) ?? null });
      } catch (error) {
        refuse(info.lines, error instanceof Error ? error.message : String(error));
      }
      if (batch.length >= batchSize) {
        await insertBatch(db, batch, options, report, now);
        batch = [];
      }
    }
  } catch (error) {
    if (error instanceof DigestError) throw error;
    const line = (error as { lines?: number }).lines;
    throw new DigestError("invalid", `${line ? `line ${line}: ` : ""}${(error as Error).message}`, {
      cause: error,
    });
  }
  if (batch.length > 0) await insertBatch(db, batch, options, report, now);
  return report;
}

async function insertBatch(
  db: Db,
  batch: { email: string; name: string | null }[],
  options: ImportOptions,
  report: ImportReport,
  now: Date,
) {
  const suppressed = await suppressedHashes(
    db,
    batch.map((r) => addressHash(r.email)),
  );
  const fresh = batch.filter((r) => !suppressed.has(addressHash(r.email)));
  const status = options.pending ? ("pending" as const) : ("active" as const);
  const inserted =
    fresh.length === 0
      ? []
      : await db
          .insert(subscribers)
          .values(
            fresh.map((r) => ({
              email: r.email,
              name: r.name,
              status,
              consentSource: "import" as const,
              consentAt: now,
              lastConfirmationAt: options.pending ? now : null,
            })),
          )
          // Any existing row, whatever its status, wins: import never changes a known address.
          .onConflictDoNothing()
          .returning({ id: subscribers.id });
  report.imported += inserted.length;
  report.skipped += batch.length - inserted.length;
  if (options.pending && options.notify && inserted.length > 0) {
    try {
      await options.notify(inserted.map((r) => mailRequest("confirm", r.id, now)));
    } catch (error) {
      // Without their mail these rows could never be confirmed: take them back out.
      await db.delete(subscribers).where(
        inArray(
          subscribers.id,
          inserted.map((r) => r.id),
        ),
      );
      throw new DigestError("unavailable", "cannot queue confirmation mails; import stopped", {
        cause: error,
      });
    }
  }
}

/** Every subscriber as CSV (email, name, status, consent...), read from the database page by page. */
export function exportSubscribers(db: Db, pageSize = 1000): Readable {
  const out = stringify({
    header: true,
    columns: ["email", "name", "status", "consent_source", "consent_at", "confirmed_at", "created_at"],
  });
  const pump = async () => {
    let after: string | undefined;
    for (;;) {
      const rows: Subscriber[] = await db
        .select()
        .from(subscribers)
        .where(after ? gt(subscribers.id, after) : sql`true`)
        .orderBy(asc(subscribers.id))
        .limit(pageSize);
      for (const r of rows) {
        const ok = out.write([
          csvSafe(r.email),
          csvSafe(r.name ?? ""),
          r.status,
          r.consentSource,
          r.consentAt?.toISOString() ?? "",
          r.confirmedAt?.toISOString() ?? "",
          r.createdAt.toISOString(),
        ]);
        // A client that hangs up destroys the stream: stop reading instead of waiting for "drain".
        if (!ok) await new Promise((resolve) => out.once("drain", resolve).once("close", resolve));
        if (out.destroyed) return;
      }
      const last = rows.at(-1);
      if (!last || rows.length < pageSize) break;
      after = last.id;
    }
    out.end();
  };
  pump().catch((error) => out.destroy(error));
  return out;
}

/**
 * A cell a spreadsheet would run as a formula (=, +, -, @ first) gets a leading quote mark: names
 * are typed by readers, and staff open the export in spreadsheets (OWASP "CSV injection").
 */
function csvSafe(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
