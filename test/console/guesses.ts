import { sql } from "drizzle-orm";
import { type Db, query } from "../../src/db/database.js";

/**
 * Login guesses in order, as a guesser who does not wait for answers sends them: each goes once the
 * one before is counted (the failures table has grown, or it was already answered), so the server
 * counts them in this order, while the delays it makes them wait run side by side instead of one
 * after another. Each guess's status and time (from sending it to its answer), in order. Nothing
 * else may log in meanwhile: any new failure row counts as the guess in flight.
 */
export async function guessesInTurn(
  db: Db,
  guesses: (() => Response | Promise<Response>)[],
): Promise<{ statuses: number[]; times: number[] }> {
  const failures = async () =>
    (await query<{ n: number }>(db, sql`select count(*)::int as n from staff_login_failures`))[0]?.n ?? 0;
  const times: number[] = [];
  const answers: Promise<number>[] = [];
  for (const [i, guess] of guesses.entries()) {
    const before = await failures();
    const started = Date.now();
    let answered = false;
    const answer = Promise.resolve(guess()).then((res) => {
      times[i] = Date.now() - started;
      return res.status;
    });
    // Settled either way: a guess that throws ends the wait too (and fails the Promise.all below).
    answer
      .finally(() => {
        answered = true;
      })
      .catch(() => {});
    answers.push(answer);
    while (!answered && (await failures()) <= before) await new Promise((r) => setTimeout(r, 5));
  }
  return { statuses: await Promise.all(answers), times };
}
