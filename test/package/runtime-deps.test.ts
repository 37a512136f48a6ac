import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";

const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => relative(repoRoot, join(entry.parentPath, entry.name)));
}

/** Every package a file imports, statically or with `import()`, type-only imports left out. */
function importedPackages(file: string): string[] {
  const text = readFileSync(join(repoRoot, file), "utf8");
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^"';]*?from\s+"([^"]+)"/gm),
    ...text.matchAll(/^\s*import\s+"([^"]+)"/gm),
    ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
  ].map((m) => m[1] ?? "");
  return specifiers
    .filter((s) => !s.startsWith(".") && !s.startsWith("node:") && !builtinModules.includes(s))
    .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : (s.split("/")[0] ?? s)));
}

describe("the production install (npm ci --omit=dev)", () => {
  const files = ["src", "emails", "workers"].flatMap(sourceFiles);

  it("has every package that the code the digest command runs imports", () => {
    const missing = files.flatMap((file) =>
      importedPackages(file)
        .filter((name) => !(name in manifest.dependencies))
        .map((name) => `${file} imports ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it("leaves out the preview server, which brings Next.js", () => {
    expect(manifest.dependencies).not.toHaveProperty("@react-email/ui");
    expect(manifest.dependencies).not.toHaveProperty("react-email");
    expect(manifest.devDependencies).toHaveProperty("@react-email/ui");
    expect(manifest.devDependencies).toHaveProperty("react-email");
  });
});
