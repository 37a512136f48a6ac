import fc from "fast-check";
import { afterAll } from "vitest";
import { runPendingCleanups } from "./helpers/cleanups.js";

// Property tests explore fresh inputs on every local run (fast-check prints the seed of any
// failure, so it can be replayed). CI replays one fixed seed, so a submission's result does not
// depend on the luck of the draw.
if (process.env.CI) fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261129) });

// Each file's leftover test databases, after the file's own afterAll hooks (see helpers/db.ts).
afterAll(runPendingCleanups);
