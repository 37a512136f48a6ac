import { type SQL, sql } from "drizzle-orm";

/**
 * Why a delivery was deferred or failed, in words staff can act on. The server's last answer is
 * kept per row (`last_response`); these kinds group thousands of slightly different answers
 * ("connect ECONNREFUSED 10.0.0.5:25", "... :587") into one line with a count and one example.
 * The same list runs in SQL (to group in the database) and in JS (to test it): first match wins.
 */
export const reasonKinds: readonly (readonly [reason: string, pattern: string])[] = [
  ["message could not be built", "^not sent:"],
  ["connection refused", "ECONNREFUSED|connection refused"],
  ["connection timed out", "ETIMEDOUT|timed? ?out|timeout"],
  [
    "connection lost",
    "ECONNRESET|EPIPE|connection closed|unexpected close|socket hang up|closed unexpectedly",
  ],
  ["DNS lookup failed", "ENOTFOUND|EAI_AGAIN|getaddrinfo"],
  ["TLS failed", "certificate|\\mTLS\\M|\\mSSL\\M|ssl3|wrong version number"],
  ["authentication failed", "^535|EAUTH|authentication (failed|credentials)"],
  ["4xx greylisting", "^4[0-9][0-9].*(grey|gray)[- ]?list"],
  ["4xx rate limited", "^4[0-9][0-9].*(rate|too many|throttl|slow down)"],
  ["4xx mailbox full", "^4[0-9][0-9].*(full|quota)"],
  ["4xx temporary failure", "^4[0-9][0-9]"],
  ["5.7.x policy or authentication", "^5[0-9][0-9][ -]5\\.7\\.[0-9]"],
  ["5.1.x unknown address", "^5[0-9][0-9][ -]5\\.1\\.[0-9]|no such user|user unknown"],
  ["5xx mailbox full", "^5[0-9][0-9].*(full|quota)"],
  ["5xx refused", "^5[0-9][0-9]"],
];

/** "gave up after retries: 450 ..." is grouped by the answer it gave up on, and says so. */
const gaveUp = "gave up after retries: ";

export function reasonOf(response: string | null): string {
  if (!response) return "no answer recorded";
  const givenUp = response.startsWith(gaveUp);
  const answer = givenUp ? response.slice(gaveUp.length) : response;
  const kind = reasonKinds.find(([, pattern]) => jsPattern(pattern).test(answer))?.[0] ?? "other";
  return givenUp ? `gave up after retries (${kind})` : kind;
}

/** POSIX word boundaries (Postgres `\m`, `\M`) become `\b` in JS; both match case-insensitively. */
function jsPattern(pattern: string): RegExp {
  return new RegExp(pattern.replace(/\\[mM]/g, "\\b"), "i");
}

/** The same classification as one SQL expression over `column` (text). */
export function reasonSql(column: SQL): SQL {
  const answer = sql`(case when ${column} like ${`${gaveUp}%`} then substr(${column}, ${gaveUp.length + 1}) else ${column} end)`;
  const cases = reasonKinds.map(([reason, pattern]) => sql`when ${answer} ~* ${pattern} then ${reason}`);
  const kind = sql`(case ${sql.join(cases, sql` `)} else 'other' end)`;
  return sql`(case when ${column} is null then 'no answer recorded'
    when ${column} like ${`${gaveUp}%`} then 'gave up after retries (' || ${kind} || ')'
    else ${kind} end)`;
}
