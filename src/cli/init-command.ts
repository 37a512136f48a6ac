import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { DigestError } from "../errors.js";

/**
 * `digest init`: a `.env` with fresh random SECRET and ADMIN_TOKEN (32 random bytes each, 43
 * characters of base64url), readable by its owner only. It never overwrites an existing `.env`:
 * a new SECRET would silently break every link already mailed.
 */
export function initEnv(cwd = process.cwd()): string {
  const file = resolve(cwd, ".env");
  const fresh = () => randomBytes(32).toString("base64url");
  const text = [
    "# Written by `digest init`. Keep it private: SECRET signs every link and return path we mail,",
    "# ADMIN_TOKEN opens the admin API. See .env.example for every other setting.",
    `SECRET=${fresh()}`,
    `ADMIN_TOKEN=${fresh()}`,
    "",
  ].join("\n");
  try {
    writeFileSync(file, text, { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new DigestError(
        "invalid",
        `${file} already exists; digest init never overwrites it (a new SECRET would break every link already mailed)`,
      );
    }
    throw new DigestError("unavailable", `cannot write ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return file;
}
