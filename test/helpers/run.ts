import { randomBytes } from "node:crypto";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** This `vitest run`'s id, part of every database name and queue prefix its tests create. */
    testRun: string;
    /** The run's migrated template database (test/helpers/template.ts), or "" if there is none. */
    testTemplate: string;
  }
}

/** A fresh run id: short, lower-case hex, usable in database names and Redis keys alike. */
export function newRunId(): string {
  return randomBytes(4).toString("hex");
}

/**
 * The id of the run this test file belongs to, given by test/global-setup.ts, so the run's end can
 * find and remove whatever its files left behind, even the files whose process crashed.
 */
export function testRunId(): string {
  try {
    return inject("testRun") || "solo";
  } catch {
    return "solo";
  }
}

/**
 * The migrated database test files clone theirs from, made once per run by test/global-setup.ts;
 * undefined when the run has none (the setup could not reach PostgreSQL), and files migrate their own.
 */
export function testTemplate(): string | undefined {
  try {
    return inject("testTemplate") || undefined;
  } catch {
    return undefined;
  }
}

/** Database names of one run: `digest_test_<run>_<random>`. */
export const databasePattern = (run: string) => `digest_test_${run}_`;

/** Queue prefixes of one run: `test-<run>-<label>-<random>` (keys look like `{test-<run>-...}:...`). */
export const prefixPattern = (run: string) => `test-${run}-`;
