import type { TestProject } from "vitest/node";
import { sweepClusters } from "./helpers/postgres.js";
import { newRunId } from "./helpers/run.js";
import { findLeftovers, sweepRun } from "./helpers/sweep.js";
import { createTemplateDatabase, dropTemplateDatabase } from "./helpers/template.js";

/**
 * One id per run (and project), handed to every test file: the test helpers put it in each
 * database name and queue prefix. The run's migrated template database is made here, once, and
 * each test file clones it (test/helpers/db.ts). At the end, everything of the run that is still
 * on the shared PostgreSQL and Redis is removed, and the run fails if anything survives that, so a
 * full `npm test` provably leaves nothing behind.
 */
export default async function setup(project: TestProject) {
  const run = newRunId();
  project.provide("testRun", run);
  let template = "";
  try {
    template = await createTemplateDatabase(run);
  } catch (error) {
    // A machine without PostgreSQL (a unit-test run): files that need a database fail on their own,
    // with the reason; the others run.
    process.stderr.write(
      `test run ${run} (${project.name}): no template database: ${(error as Error).message}\n`,
    );
  }
  project.provide("testTemplate", template);
  return async () => {
    // Private PostgreSQL clusters (test/helpers/postgres.ts) live in folders named with the run.
    const clusters = sweepClusters(run);
    if (clusters > 0)
      process.stderr.write(
        `test run ${run} (${project.name}): stopped ${clusters} private PostgreSQL cluster(s) a test left running\n`,
      );
    let swept: Awaited<ReturnType<typeof sweepRun>>;
    try {
      // The template is the run's own, not something a test file left: removed before the sweep.
      if (template) await dropTemplateDatabase(run);
      swept = await sweepRun(run);
    } catch (error) {
      // Only a run whose files never reached the shared servers gets here (a unit-test run on a
      // machine without them): there is nothing of it to remove.
      process.stderr.write(`test run ${run} (${project.name}): nothing swept: ${(error as Error).message}\n`);
      return;
    }
    if (swept.databases.length > 0 || swept.keys > 0) {
      // Not an error: a test process that crashed or was killed cannot clean up, and a killed
      // worker may write a key after its test removed the prefix. Said, so leaks get noticed.
      process.stderr.write(
        `test run ${run} (${project.name}): removed what test files left: ${swept.databases.length} database(s)` +
          `${swept.databases.length ? ` (${swept.databases.join(", ")})` : ""}, ${swept.keys} Redis key(s)` +
          `${swept.prefixes?.length ? ` under ${swept.prefixes.join(", ")}` : ""}\n`,
      );
    }
    const left = await findLeftovers(run);
    if (left.databases.length > 0 || left.keys > 0) {
      // Vitest only logs an error thrown here ("error during close") and still exits 0.
      process.exitCode = 1;
      throw new Error(
        `test run ${run} left ${left.databases.length} database(s) and ${left.keys} Redis key(s) that could not be removed`,
      );
    }
  };
}
