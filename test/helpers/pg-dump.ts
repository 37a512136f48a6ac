import { spawnSync } from "node:child_process";

/**
 * The whole database as `pg_dump` writes it (schema and data, plain SQL), without the random key
 * of the `\restrict` lines newer pg_dump versions write (it differs on every run).
 */
export function pgDump(url: string, extra: string[] = []): string {
  const result = spawnSync("pg_dump", ["--no-owner", "--no-privileges", ...extra, url], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`pg_dump failed: ${result.stderr}`);
  return result.stdout.replace(/^\\(un)?restrict \S+$/gm, "\\$1restrict");
}
