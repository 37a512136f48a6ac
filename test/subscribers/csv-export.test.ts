import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { exportSubscribers, spreadsheetSafe } from "../../src/subscribers/csv.js";
import { signIn, staffMember } from "../console/session.js";
import { digest } from "../helpers/cli.js";
import { bearer, startService } from "../http/harness.js";

/** Names are typed by readers; staff open the export in whatever spreadsheet their locale gives them. */
const { app, database } = await startService({ worker: false });
const hostile = [
  "Bob;=cmd|' /C calc'!A0",
  "Ann,+1+cmd|' /C calc'!A0",
  "Tab\t@SUM(1+1)*cmd|' /C calc'!A0",
  "Eve; -2+3",
  '=HYPERLINK("http://evil.test")',
  "Mal\uFF1Dcmd;\uFF1Dcmd",
  "Pipe|=cmd|' /C calc'!A0",
  "Pip| -2+3|@SUM(1)",
];
await database.query(sql`insert into subscribers (email, name, status, consent_source)
  select 'r' || i || '@readers.test', n, 'active', 'admin'
  from json_array_elements_text(${JSON.stringify(hostile)}::json) with ordinality as t(n, i)`);

const formulaLead = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** The separators a spreadsheet may be told to split on. */
const separators = [",", ";", "\t", "|"];

/** Every cell a spreadsheet that splits on `sep` (and ignores quotes) would make of the export. */
function cellsSplitOn(csv: string, sep: string): string[] {
  return csv
    .split(/\r?\n/)
    .flatMap((line) => line.split(sep))
    .map((cell) => cell.replace(/^"/, "").replace(/"$/, "").trimStart());
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += chunk.toString();
  return out;
}

describe("a cell that would start a formula", () => {
  it.each([
    ["=1+1", "'=1+1"],
    ["Bob;=cmd", "Bob;'=cmd"],
    ["Bob; =cmd", "Bob; '=cmd"],
    ["a,+b", "a,'+b"],
    ["a\t-b", "a\t'-b"],
    ["x;@y", "x;'@y"],
    ["Pipe|=cmd", "Pipe|'=cmd"],
    ["a| +b|@c", "a| '+b|'@c"],
    ["\tTab", "'\tTab"],
    ["\uFF1Dcmd", "'\uFF1Dcmd"],
    ["Jean-Luc Picard", "Jean-Luc Picard"],
    ["Smith; John", "Smith; John"],
    ["A|B", "A|B"],
    ["山田 太郎", "山田 太郎"],
  ])("is neutralised where a spreadsheet would start a cell: %j becomes %j", (given, safe) => {
    expect(spreadsheetSafe(given)).toBe(safe);
  });
});

describe("the subscriber export", () => {
  it("quotes every data cell and starts no formula, whether a spreadsheet splits on commas, semicolons, tabs or pipes", async () => {
    const csv = await text(exportSubscribers(database.db));
    const [header, ...rows] = csv.trim().split("\n");
    expect(header).toBe("email,name,status,consent_source,consent_at,confirmed_at,created_at");
    for (const row of rows) expect(row).toMatch(/^"[^"]+@readers\.test","/);
    expect(csv).toContain(`"Bob;'=cmd|' /C calc'!A0"`);
    expect(csv).toContain(`"Pipe|'=cmd|' /C calc'!A0"`);
    for (const sep of separators)
      for (const cell of cellsSplitOn(csv, sep))
        expect(cell, `split on ${JSON.stringify(sep)}`).not.toMatch(formulaLead);
  });

  it("is the same guarded file from the admin API", async () => {
    const res = await app.request("/api/subscribers/export", { headers: bearer });
    expect(res.status).toBe(200);
    const csv = await res.text();
    expect(csv).toContain(`"r1@readers.test","Bob;'=cmd|' /C calc'!A0","active"`);
    for (const sep of separators)
      for (const cell of cellsSplitOn(csv, sep))
        expect(cell, `split on ${JSON.stringify(sep)}`).not.toMatch(formulaLead);
  });

  it("is the same guarded file from the console, for admins only", async () => {
    await staffMember(database.db, "admin@staff.test", "admin");
    await staffMember(database.db, "editor@staff.test", "editor");
    const editor = await signIn(app, "editor@staff.test");
    expect((await editor.get("/admin/subscribers/export")).status).toBe(403);
    const admin = await signIn(app, "admin@staff.test");
    const res = await admin.get("/admin/subscribers/export");
    expect(res.status).toBe(200);
    const csv = await res.text();
    expect(csv).toContain(`"r7@readers.test","Pipe|'=cmd|' /C calc'!A0","active"`);
    for (const sep of separators)
      for (const cell of cellsSplitOn(csv, sep))
        expect(cell, `split on ${JSON.stringify(sep)}`).not.toMatch(formulaLead);
  });

  it("is the same guarded file from digest subscribers export, with or without --excel", () => {
    for (const args of [[], ["--excel"]]) {
      const run = digest(["subscribers", "export", ...args], {
        env: { DATABASE_URL: database.url, REDIS_URL: "redis://127.0.0.1:1" },
      });
      expect(run.code, run.stderr).toBe(0);
      const csv = run.stdout.replace(/^\uFEFF/, "");
      expect(csv).toContain(`"r1@readers.test","Bob;'=cmd|' /C calc'!A0","active"`);
      expect(csv).toContain(`"r8@readers.test","Pip| '-2+3|'@SUM(1)","active"`);
      for (const sep of separators)
        for (const cell of cellsSplitOn(csv, sep))
          expect(cell, `split on ${JSON.stringify(sep)}`).not.toMatch(formulaLead);
    }
  });
});
