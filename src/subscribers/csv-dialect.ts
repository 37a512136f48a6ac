import { DigestError } from "../errors.js";

/**
 * What spreadsheets and mailing tools actually export: comma, semicolon (European Excel) or tab
 * separated, maybe with a byte-order mark, with the address under "email", "Email Address"
 * (Mailchimp), "E-mail"... and the name whole or as "First Name" + "Last Name".
 */
export type Delimiter = "," | ";" | "\t";

/** The delimiter of a header line: whichever of , ; tab occurs most outside quotes. */
export function sniffDelimiter(headerLine: string): Delimiter {
  const counts: Record<Delimiter, number> = { ",": 0, ";": 0, "\t": 0 };
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "," || ch === ";" || ch === "\t")) counts[ch]++;
  }
  const best = (Object.entries(counts) as [Delimiter, number][]).sort((a, b) => b[1] - a[1])[0];
  return best && best[1] > 0 ? best[0] : ",";
}

const key = (header: string) =>
  header
    .replace(/^\uFEFF/, "")
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "");

const emailHeaders = new Set(["email", "emailaddress", "mail", "emailaddr"]);
const nameHeaders = new Set(["name", "fullname"]);
const firstHeaders = new Set(["firstname", "givenname", "fname"]);
const lastHeaders = new Set(["lastname", "surname", "familyname", "lname"]);

export interface Columns {
  email: number;
  name?: number;
  first?: number;
  last?: number;
}

export function findColumns(header: string[]): Columns {
  const keys = header.map(key);
  const find = (names: Set<string>) => {
    const i = keys.findIndex((k) => names.has(k));
    return i === -1 ? undefined : i;
  };
  const email = find(emailHeaders);
  if (email === undefined)
    throw new DigestError(
      "invalid",
      `line 1: no email column: the header must name one "email" (or "Email Address", "E-mail"); it has ${header
        .map((h) => JSON.stringify(h.trim()))
        .join(", ")}`,
    );
  const name = find(nameHeaders);
  const first = find(firstHeaders);
  const last = find(lastHeaders);
  return {
    email,
    ...(name !== undefined ? { name } : {}),
    ...(first !== undefined ? { first } : {}),
    ...(last !== undefined ? { last } : {}),
  };
}

/** The reader's name from a record: "name", else "First Name" and "Last Name" joined. */
export function nameOf(record: string[], columns: Columns): string | undefined {
  if (columns.name !== undefined) return record[columns.name];
  const parts = [columns.first, columns.last]
    .map((i) => (i === undefined ? "" : (record[i] ?? "").trim()))
    .filter((p) => p !== "");
  return parts.length > 0 ? parts.join(" ") : undefined;
}
