import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findPreviewServer } from "../../src/cli/preview-server.js";
import { repoRoot } from "../helpers/cli.js";

describe("digest preview", () => {
  it("finds React Email's preview server after a plain npm install", () => {
    expect(findPreviewServer(repoRoot)).toMatch(/react-email.*cli.index\.mjs$/);
  });

  describe("in a production install (npm ci --omit=dev)", () => {
    const root = mkdtempSync(join(tmpdir(), "digest-lean-"));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    writeFileSync(
      join(root, "package.json"),
      JSON.stringify({
        name: "digest",
        devDependencies: { "react-email": "6.11.6", "@react-email/ui": "6.11.6" },
      }),
    );

    it("names the exact command that installs the missing preview server, with the locked versions", () => {
      expect(() => findPreviewServer(root)).toThrow(
        `cd ${root} && npm install --no-save react-email@6.11.6 @react-email/ui@6.11.6`,
      );
    });
  });
});
