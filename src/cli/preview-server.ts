import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { DigestError } from "../errors.js";

/**
 * The packages React Email's preview server needs. They bring Next.js (over 300 MB), so they are
 * development dependencies: a production install (`npm ci --omit=dev`) leaves them out, and
 * `digest preview` is the only command that misses them.
 */
export const previewPackages = ["react-email", "@react-email/ui"] as const;

/**
 * The preview server's CLI script under `root` (the digest package folder), or an error that
 * names the exact command that installs what is missing.
 */
export function findPreviewServer(root: string): string {
  const require = createRequire(join(root, "package.json"));
  // Looked up as folders: neither package exports its package.json, and resolving their entry
  // points would load Next.js's resolver.
  const installed = (name: string) =>
    (require.resolve.paths(name) ?? []).some((dir) => existsSync(join(dir, name, "package.json")));
  const missing = previewPackages.filter((name) => !installed(name));
  if (missing.length > 0) {
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      devDependencies?: Record<string, string>;
    };
    const specs = missing.map((name) => {
      const version = manifest.devDependencies?.[name];
      return version ? `${name}@${version}` : name;
    });
    throw new DigestError(
      "unavailable",
      `digest preview needs React Email's preview server (${missing.join(", ")}), a development ` +
        `dependency that a production install leaves out. Install it with:\n` +
        `  cd ${root} && npm install --no-save ${specs.join(" ")}\n` +
        `(or run a plain \`npm install\` there, which installs every development dependency)`,
    );
  }
  return join(require.resolve("react-email"), "..", "cli", "index.mjs");
}
