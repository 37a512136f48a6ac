import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { csvRecords } from "../../src/subscribers/csv-records.js";

/** The import's CSV reader: what spreadsheets write, read back with the line each row starts on. */
async function read(chunks: string[]) {
  const out: { fields: string[]; line: number }[] = [];
  for await (const records of csvRecords(Readable.from(chunks.map((c) => Buffer.from(c)))))
    out.push(...records);
  return out;
}

describe("csvRecords", () => {
  it("reads quoted fields with delimiters, doubled quotes, CRLF and line breaks, keeping line numbers", async () => {
    const rows = await read([
      'email,name\r\n"a@x.org","Lima, ""Ana"""\r\n',
      'b@x.org,"two\nlines"\n\nc@x.org,C\n',
    ]);
    expect(rows).toEqual([
      { fields: ["email", "name"], line: 1 },
      { fields: ["a@x.org", 'Lima, "Ana"'], line: 2 },
      { fields: ["b@x.org", "two\nlines"], line: 3 },
      { fields: ["c@x.org", "C"], line: 6 },
    ]);
  });

  it("finds the delimiter in the header and drops a byte-order mark, across chunk borders", async () => {
    const rows = await read(["\uFEFFEmail Address;Na", "me\nx@y.org;X Y\ny@y.o", "rg;\n"]);
    expect(rows.map((r) => r.fields)).toEqual([
      ["Email Address", "Name"],
      ["x@y.org", "X Y"],
      ["y@y.org", ""],
    ]);
  });

  it("reads tabs, and a last line without a newline", async () => {
    expect((await read(["e-mail\tname\nz@y.org\tZ"])).map((r) => r.fields)).toEqual([
      ["e-mail", "name"],
      ["z@y.org", "Z"],
    ]);
  });

  it("refuses a quote that never closes, naming its line", async () => {
    await expect(read(['email\n"a@x.org\n'])).rejects.toThrow(/line 2: a quote is opened and never closed/);
  });
});
