import { defineConfig } from "vitest/config";
import SpreadFaults from "./test/sequencer.js";

/** Test files that mock a module of the product, so must not share modules with other files. */
const ownModules = ["test/tracking/send.test.ts"];

// Fast tests (unit + integration against the shared Postgres/Redis) run in one project; suites that
// spawn real processes or private servers live in their own project so they can be run alone
// (`npm run test:faults`) and do not slow the edit-test loop.
export default defineConfig({
  test: {
    pool: "forks",
    // Vitest's default on a 2-core machine is one file at a time (cores - 1). Most files wait on
    // real servers (SMTP answers, rates, back-off) far more than they compute, so two at a time
    // halves the run (about 10.5 to 7 minutes here) without starving either.
    maxWorkers: 2,
    setupFiles: ["test/setup.ts"],
    sequence: { sequencer: SpreadFaults },
    // Gives each run an id that test databases and queue prefixes carry, and removes at the end
    // whatever of the run is still on the shared PostgreSQL and Redis.
    globalSetup: ["test/global-setup.ts"],
    // The default output, then the slowest files with their times (test/slowest-files.ts).
    reporters: ["default", "./test/slowest-files.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "main",
          include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
          exclude: ["test/faults/**", "node_modules/**", ...ownModules],
          // The files of one worker share their modules instead of loading them again for each
          // file: loading was about a sixth of all test time (100 s of 650). Nothing a test relies
          // on lives in module state (each file opens its own database, queue prefix and servers),
          // and every file's leftovers are cleaned at its own end (test/helpers/cleanups.ts).
          isolate: false,
        },
      },
      {
        extends: true,
        // Files that replace a module (vi.mock) get modules of their own.
        test: { name: "own-modules", include: ownModules },
      },
      {
        extends: true,
        test: {
          name: "faults",
          include: ["test/faults/**/*.test.ts"],
          // One fault file at a time, beside the main files rather than after them (a lock, and
          // the order of test/sequencer.ts).
          setupFiles: ["test/faults/one-at-a-time.ts"],
          testTimeout: 240_000,
        },
      },
    ],
  },
});
