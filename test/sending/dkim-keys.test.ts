import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import type { Database } from "../../src/db/database.js";
import { startWorkers, workerSettings } from "../../workers/main.js";
import { repoRoot } from "../helpers/cli.js";

/**
 * The worker reads its DKIM keys once, at start, and refuses a key of the wrong kind there: the
 * RSA key for rsa-sha256, an Ed25519 key for DKIM_ED25519_KEY_FILE, never a failure per message.
 */
const dir = mkdtempSync(join(tmpdir(), "digest-dkim-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pem = (type: "rsa" | "ed25519", file: string) => {
  const { privateKey } =
    type === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 1024 }) : generateKeyPairSync("ed25519");
  writeFileSync(join(dir, file), privateKey.export({ type: "pkcs8", format: "pem" }));
  return join(dir, file);
};
const rsaFile = pem("rsa", "rsa.pem");
const edFile = pem("ed25519", "ed.pem");

/** The worker's start with these DKIM settings: what it throws before it touches the database. */
async function startWith(dkim: Record<string, string>): Promise<unknown> {
  const settings = loadConfig(workerSettings, {
    REDIS_URL: "redis://127.0.0.1:9",
    SMTP_URL: "smtp://127.0.0.1:9",
    SECRET: "a-long-enough-secret-for-these-tests-0123456789",
    PUBLIC_URL: "https://news.example.org",
    MAIL_FROM: "News <news@example.org>",
    NEWSLETTER_FILE: join(repoRoot, "newsletter.yaml"),
    ...dkim,
  });
  const log = pino({ level: "silent" });
  return startWorkers(settings, {} as Database, log).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("DKIM keys at the worker's start", () => {
  const rsaSettings = { DKIM_DOMAIN: "example.org", DKIM_SELECTOR: "s1", DKIM_PRIVATE_KEY_FILE: rsaFile };

  it("refuses an Ed25519 key as DKIM_PRIVATE_KEY_FILE and an RSA key as DKIM_ED25519_KEY_FILE", async () => {
    const wrongRsa = await startWith({ ...rsaSettings, DKIM_PRIVATE_KEY_FILE: edFile });
    expect(wrongRsa).toBeInstanceOf(ConfigError);
    expect((wrongRsa as Error).message).toMatch(/DKIM_PRIVATE_KEY_FILE .* not an RSA private key/);
    const wrongEd = await startWith({ ...rsaSettings, DKIM_ED25519_KEY_FILE: rsaFile });
    expect(wrongEd).toBeInstanceOf(ConfigError);
    expect((wrongEd as Error).message).toMatch(/DKIM_ED25519_KEY_FILE .* not an Ed25519 private key/);
  });

  it("refuses DKIM_ED25519_KEY_FILE alone: it is a second signature beside the RSA one", async () => {
    const alone = await startWith({ DKIM_ED25519_KEY_FILE: edFile });
    expect(alone).toBeInstanceOf(ConfigError);
    expect((alone as Error).message).toMatch(/set DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE too/);
  });

  it("refuses a key file that is no key at all", async () => {
    writeFileSync(join(dir, "junk.pem"), "not a key\n");
    const junk = await startWith({ ...rsaSettings, DKIM_ED25519_KEY_FILE: join(dir, "junk.pem") });
    expect(junk).toBeInstanceOf(ConfigError);
    expect((junk as Error).message).toMatch(/DKIM_ED25519_KEY_FILE .*junk\.pem is no usable key/);
  });
});
