import postgres from "postgres";
import { afterAll } from "vitest";
import { sharedPostgresUrl } from "../helpers/db.js";
import { testRunId } from "../helpers/run.js";

/**
 * The fault suites start real workers, private servers and a million-row import, and some measure
 * rates: two of them at once would measure each other. They run beside the main files (see
 * test/sequencer.ts) but never beside each other: each file holds this run's session lock on the
 * shared PostgreSQL from before its first import to after its last hook. The lock lives with its
 * connection, so a file whose process dies releases it too.
 */
const lockSpace = 727_275;
const run = testRunId();
const key = /^[0-9a-f]{7}/.test(run) ? Number.parseInt(run.slice(0, 7), 16) : 0;

const session = postgres(sharedPostgresUrl, { max: 1, idle_timeout: 0, onnotice: () => {} });
await session`select pg_advisory_lock(${lockSpace}, ${key})`;

afterAll(async () => {
  await session`select pg_advisory_unlock(${lockSpace}, ${key})`;
  await session.end();
});
