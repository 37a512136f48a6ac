import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's root folder, found from this file whether it runs from `src/` (tsx, vitest) or
 * from `dist/src/` (the installed `digest` command). Migrations and templates are found from here,
 * never from the working directory, so `npx digest` works from any folder.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "digest") return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the digest package root");
    dir = parent;
  }
}

export const packageRoot = findRoot();
export const migrationsFolder = join(packageRoot, "drizzle", "migrations");
