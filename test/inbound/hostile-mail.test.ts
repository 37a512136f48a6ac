import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestBin, repoRoot } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";
import { freePort } from "../helpers/smtp.js";
import { plainBounce } from "./plain-bounce.js";

/**
 * `digest serve` as a user runs it (the compiled CLI, its own process), sent 2 MB messages of one
 * line built to make a parser backtrack: the HTTP app in the same process must keep answering
 * within a second while the message is read, and the message must be answered (accepted or
 * refused) within seconds. The test polls /healthz from outside, so a frozen server fails it
 * instead of freezing the test. Needs `npm run build`.
 */
const database = await createTestDatabase();
const prefix = uniquePrefix("hostile-mail");
const domain = "example.org";
let serve: ChildProcess;
let exited: Promise<number | null>;
let httpPort: number;
let smtpPort: number;
const stderr: string[] = [];

const MB2 = 2 * 1024 * 1024;
const fill = (unit: string, bytes = MB2) => unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function healthy(timeoutMs: number): Promise<number> {
  const started = performance.now();
  const ok = await fetch(`http://127.0.0.1:${httpPort}/healthz`, {
    signal: AbortSignal.timeout(timeoutMs),
  }).then(
    (r) => r.ok,
    () => false,
  );
  return ok ? performance.now() - started : Number.POSITIVE_INFINITY;
}

/** Polls /healthz every 100 ms until stopped; answers the slowest answer (Infinity for none within 3 s). */
function watchHealth() {
  let running = true;
  let slowest = 0;
  let polls = 0;
  const loop = (async () => {
    while (running) {
      slowest = Math.max(slowest, await healthy(3000));
      polls++;
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { slowest, polls };
    },
  };
}

/** The server's answer to one message ("250" or the refusal's code), or "no answer" after `withinMs`. */
async function send(raw: string, withinMs: number): Promise<string> {
  const transport = createTransport({
    host: "127.0.0.1",
    port: smtpPort,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: withinMs,
  });
  const answer = transport
    .sendMail({ envelope: { from: "someone@elsewhere.example", to: [`postmaster@${domain}`] }, raw })
    .then(
      () => "250",
      (error: { responseCode?: number; message: string }) =>
        error.responseCode ? String(error.responseCode) : `no answer (${error.message})`,
    );
  const late = sleep(withinMs).then(() => "no answer in time");
  try {
    return await Promise.race([answer, late]);
  } finally {
    transport.close();
  }
}

beforeAll(async () => {
  httpPort = await freePort();
  smtpPort = await freePort();
  serve = spawn(process.execPath, [digestBin, "serve"], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: database.url,
      REDIS_URL: sharedRedisUrl,
      QUEUE_PREFIX: prefix,
      SECRET: "hostile-mail-test-secret-0123456789-0123456789",
      PORT: String(httpPort),
      INBOUND_SMTP_PORT: String(smtpPort),
      PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
      MAIL_FROM: `News <news@${domain}>`,
      MAIL_DOMAIN: domain,
      NEWSLETTER_FILE: join(repoRoot, "newsletter.yaml"),
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  serve.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 500) stderr.push(chunk.toString());
  });
  exited = new Promise((resolve) => serve.once("exit", (code) => resolve(code)));
  for (let i = 0; i < 300 && !stderr.join("").includes('"msg":"serving"'); i++) await sleep(100);
  expect(stderr.join(""), "digest serve started").toContain('"msg":"serving"');
}, 60_000);

afterAll(async () => {
  // Whatever happened, the process goes: a frozen one ignores SIGTERM.
  if (serve.exitCode === null && serve.signalCode === null) serve.kill("SIGKILL");
  await exited;
  await dropPrefix(prefix);
});

const headers = [
  "From: someone@elsewhere.example",
  `To: postmaster@${domain}`,
  "Subject: hello",
  "Message-ID: <hostile@elsewhere.example>",
  "",
].join("\r\n");

describe("digest serve reading hostile mail", () => {
  it.each([
    ["one long line without an @", fill("a")],
    ["a line of many @ with long runs between them", fill(`${"x".repeat(1000)}@`)],
    ["a long run of address characters", fill("a.b-c")],
    ["an address with a domain that never ends", `a@${fill("b-")}`],
  ])(
    "answers a 2 MB message of %s within seconds, and /healthz within a second meanwhile",
    async (_, line) => {
      const health = watchHealth();
      const started = Date.now();
      const answer = await send(`${headers}\r\n${line}\r\n`, 15_000);
      const took = Date.now() - started;
      const { slowest, polls } = await health.stop();
      expect(answer).toMatch(/^(?:250|5\d\d)$/);
      expect(took).toBeLessThan(10_000);
      expect(polls).toBeGreaterThan(0);
      expect(slowest).toBeLessThan(1000);
    },
  );

  it("then still handles ordinary mail, and stops on SIGTERM within seconds", async () => {
    expect(await send(plainBounce(domain), 10_000)).toBe("250");
    serve.kill("SIGTERM");
    const code = await Promise.race([exited, sleep(15_000).then(() => "still running")]);
    expect(code).toBe(0);
  });
});
