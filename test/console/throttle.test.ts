import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.js";
import { loginVerdict, startLoginAttempt } from "../../src/staff/throttle.js";
import { createEmbeddedDatabase } from "../helpers/db.js";
import { startService } from "../http/harness.js";
import { guessesInTurn } from "./guesses.js";
import { form, password, staffMember } from "./session.js";

/**
 * Login throttling as a guesser meets it: the same account spelled many ways, and many addresses
 * of one IPv6 /64, count as one. Each request names its client in a test header, standing in for
 * the socket's peer.
 */
const service = await startService({ worker: false });
const db = service.database.db;
const app = await createApp({ ...service.deps, clientIp: (c) => c.req.header("x-test-client") });

const login = async (email: string, pass: string, client: string) => {
  const init = form({ email, password: pass });
  return app.request("/admin/login", {
    ...init,
    headers: { ...(init.headers as Record<string, string>), "x-test-client": client },
  });
};

/** Statuses and times of one guess per item, counted in order (see guessesInTurn). */
function guesses(items: { email: string; client: string }[]) {
  const sends = items.map(({ email, client }, i) => {
    return () => login(email, `guess ${i}`, client);
  });
  return guessesInTurn(db, sends);
}

describe("login throttling", () => {
  it("counts full-width and upper-case spellings of one account as one email, and the right password then does not sign in", async () => {
    await staffMember(db, "spelled@staff.test", "admin");
    const spellings = [
      "spelled@staff.test",
      "SPELLED@staff.test",
      "spelled@STAFF.TEST",
      "Spelled@ｓｔａｆｆ.ｔｅｓｔ",
      "spelled@Ｓｔａｆｆ.test",
    ];
    // Each guess from another IPv4 address, so only the per-email count can stop them.
    const { statuses, times } = await guesses(
      Array.from({ length: 20 }, (_, i) => ({
        email: spellings[i % spellings.length] as string,
        client: `198.51.100.${i + 1}`,
      })),
    );
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(10).fill(429));
    expect(Math.max(...times.slice(5, 10))).toBeGreaterThan(Math.max(...times.slice(0, 3)) + 150);
    for (const spelling of spellings) {
      const right = await login(spelling, password, "203.0.113.99");
      expect(right.status).toBe(429);
      expect(right.headers.get("set-cookie")).toBeNull();
    }
  }, 60_000);

  it("counts 60 addresses of one IPv6 /64 as one client: slowed, then refused, and the right password does not sign in", async () => {
    await staffMember(db, "v6@staff.test", "admin");
    // A different unknown email each time, so only the per-client count can stop them.
    const { statuses, times } = await guesses(
      Array.from({ length: 60 }, (_, i) => ({
        email: `guess${i}@staff.test`,
        client: `2001:db8:7:9:${((i * 7919) % 65536).toString(16)}:${i.toString(16)}::1`,
      })),
    );
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(statuses.slice(30)).toEqual(Array(30).fill(429));
    expect(Math.max(...times.slice(20, 30))).toBeGreaterThan(Math.max(...times.slice(0, 3)) + 150);
    // Another address in the same /64, written out in full: still the same client.
    const right = await login("v6@staff.test", password, "2001:0db8:0007:0009:ffff:0:0:2");
    expect(right.status).toBe(429);
    expect(right.headers.get("set-cookie")).toBeNull();
    // Another /64 is another client; the account itself was never guessed at.
    expect((await login("v6@staff.test", password, "2001:db8:7:a::1")).status).toBe(303);
  }, 120_000);

  // This test and the next (on an embedded database of its own) check counts, not times, so they run
  // side by side. The others run alone: the two above time their guesses and wait on every new
  // failure row, and this one moves every row back 16 minutes at its end.
  it.concurrent("counts guesses sent all at once as they arrive: at most 10 for one account and 30 from one /64 are tried", async () => {
    await staffMember(db, "burst@staff.test", "admin");
    // 40 guesses at one account, all in flight together, each from another IPv4 address.
    const atAccount = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login("burst@staff.test", `guess ${i}`, `198.51.100.${i + 101}`)),
    );
    const tried = atAccount.filter((r) => r.status === 401).length;
    expect(tried).toBe(10);
    expect(atAccount.filter((r) => r.status === 429)).toHaveLength(30);
    const right = await login("burst@staff.test", password, "203.0.113.98");
    expect(right.status).toBe(429);
    expect(right.headers.get("set-cookie")).toBeNull();

    // 60 guesses from one /64 at as many accounts, all in flight together.
    const fromClient = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        login(`burst${i}@staff.test`, `guess ${i}`, `2001:db8:8::${i.toString(16)}`),
      ),
    );
    expect(fromClient.filter((r) => r.status === 401)).toHaveLength(30);
    expect(fromClient.filter((r) => r.status === 429)).toHaveLength(30);

    // The lock ends when the failures leave the 15-minute window: then the right password signs in.
    await db.execute(sql`update staff_login_failures set created_at = created_at - interval '16 minutes'`);
    expect((await login("burst@staff.test", password, "203.0.113.98")).status).toBe(303);
  }, 120_000);

  it.concurrent("counts attempts the same way on embedded PGlite: ten at once for one account, and the eleventh is refused", async () => {
    const embedded = await createEmbeddedDatabase();
    const attempts = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        startLoginAttempt(embedded.db, "lite@staff.test", `192.0.2.${i + 1}`),
      ),
    );
    expect(attempts.filter((a) => !a.refused)).toHaveLength(10);
    expect(await loginVerdict(embedded.db, "LITE@staff.test", "192.0.2.200")).toEqual({ refused: true });
  }, 60_000);

  it("counts an IPv4-mapped IPv6 address as the IPv4 address it is", async () => {
    for (let i = 0; i < 30; i++)
      await startLoginAttempt(db, `mapped${i}@staff.test`, i % 2 === 0 ? "192.0.2.77" : "::ffff:192.0.2.77");
    expect(await loginVerdict(db, "mapped@staff.test", "192.0.2.77")).toEqual({ refused: true });
    expect(await loginVerdict(db, "mapped@staff.test", "::FFFF:192.0.2.77")).toEqual({ refused: true });
    expect(await loginVerdict(db, "mapped@staff.test", "192.0.2.78")).toEqual({ refused: false, delayMs: 0 });
  });
});
