import { createHash, randomBytes } from "node:crypto";

/** A random URL-safe token (256 bits) and the hash under which it is stored. */
export const newToken = () => randomBytes(32).toString("base64url");
export const tokenHash = (token: string) => createHash("sha256").update(token).digest("hex");
export const isTokenShaped = (token: string) => /^[A-Za-z0-9_-]{43}$/.test(token);
