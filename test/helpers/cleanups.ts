/**
 * Cleanups not run yet (test databases, see db.ts): the end of each file runs whatever its tests
 * have not. test/setup.ts registers `runPendingCleanups` for every file, before the file's own
 * hooks, so it runs after them (hooks run as a stack), once their afterAll hooks have closed what
 * used the databases. It is registered there rather than in db.ts because a module shared by the
 * files of one worker (the main project does not isolate them) is evaluated once, and a top-level
 * hook in it would belong to the first file only. An afterAll registered from inside beforeAll or
 * a test is silently never run: that is how test databases used to be left behind.
 */
export const pending = new Set<() => Promise<void>>();

export async function runPendingCleanups(): Promise<void> {
  for (const cleanup of [...pending]) await cleanup();
}
