import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { pino } from "pino";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configuredDoctorInputs } from "../../src/cli/doctor-command.js";
import { statusText } from "../../src/cli/status-text.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { controlSend } from "../../src/sending/control.js";
import { createMailer, relaySessionOptions } from "../../src/sending/mailer.js";
import { relayFault } from "../../src/sending/outcome.js";
import { startSend } from "../../src/sending/plan.js";
import { loadSendStatus } from "../../src/sending/status.js";
import { startWorkers, workerSettings } from "../../workers/main.js";
import { repoRoot } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";
import { addReaders, deliveryRows, pipeline, sendStatusOf, storeIssue, waitUntil } from "./harness.js";

/**
 * A relay whose certificate comes from a private CA (common in companies and ministries): trusted
 * with SMTP_CA_FILE, never silently; a relay we cannot trust or log in to pauses the send with the
 * reason instead of deferring every reader for a day.
 */
const dir = mkdtempSync(join(tmpdir(), "digest-relay-tls-"));
const caFile = join(dir, "ca.crt");
let ca: string;
let relayCert: Buffer;
let relayKey: Buffer;
const closers: (() => Promise<void>)[] = [];

/** A private CA and a relay certificate it signed, for localhost and 127.0.0.1. */
function makeCertificates() {
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  run(
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2"],
    ...["-subj", "/CN=Digest Test Private CA", "-addext", "basicConstraints=critical,CA:TRUE"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  );
  run(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "relay.key",
    "-out",
    "relay.csr",
    "-subj",
    "/CN=localhost",
  );
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  run(
    ...["x509", "-req", "-in", "relay.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"],
    ...["-out", "relay.crt", "-days", "2", "-extfile", "ext.cnf"],
  );
  ca = readFileSync(caFile, "utf8");
  relayCert = readFileSync(join(dir, "relay.crt"));
  relayKey = readFileSync(join(dir, "relay.key"));
}

interface Relay {
  port: number;
  /** The TLS server name (SNI) each session asked for; `null` when it sent none. */
  servernames: (string | null)[];
  received: number;
}

/** An in-process relay with the private-CA certificate: implicit TLS (smtps) or STARTTLS. */
async function startRelay(
  mode: "smtps" | "starttls",
  extra: Partial<SMTPServerOptions> = {},
  bind = "127.0.0.1",
): Promise<Relay> {
  const relay: Relay = { port: 0, servernames: [], received: 0 };
  const server = new SMTPServer({
    secure: mode === "smtps",
    key: relayKey,
    cert: relayCert,
    authOptional: true,
    logger: false,
    closeTimeout: 1000,
    onMailFrom(_address, session, callback) {
      relay.servernames.push((session as { servername?: string }).servername || null);
      callback();
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on("end", () => {
        relay.received++;
        callback(null, "2.0.0 Ok: queued as TLS0001");
      });
    },
    ...extra,
  });
  await new Promise<void>((resolve) => server.listen(0, bind, resolve));
  server.on("error", () => {});
  relay.port = (server.server.address() as { port: number }).port;
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return relay;
}

const envelope = { from: "bounces@example.org", to: ["reader@readers.test"] };
const message = "From: news@example.org\r\nTo: reader@readers.test\r\nSubject: tls\r\n\r\nhello\r\n";

beforeAll(() => makeCertificates());
afterAll(async () => {
  for (const close of closers.splice(0)) await close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a relay with a private CA", () => {
  it.each(["smtps", "starttls"] as const)("is trusted with SMTP_CA_FILE's CA (%s)", async (mode) => {
    const relay = await startRelay(mode);
    const scheme = mode === "smtps" ? "smtps" : "smtp";
    const mailer = createMailer({
      smtpUrl: `${scheme}://localhost:${relay.port}`,
      pool: 1,
      tls: { mode: "verify", ca },
    });
    const result = await mailer.sendRaw(envelope, message);
    mailer.close();
    expect(result.response).toMatch(/^250/);
    expect(relay.received).toBe(1);
  });

  it.each(["smtps", "starttls"] as const)("is refused without it, as a TLS failure (%s)", async (mode) => {
    const relay = await startRelay(mode);
    const scheme = mode === "smtps" ? "smtps" : "smtp";
    const mailer = createMailer({ smtpUrl: `${scheme}://127.0.0.1:${relay.port}`, pool: 1 });
    await expect(mailer.sendRaw(envelope, message)).rejects.toMatchObject({ code: "ETLS" });
    mailer.close();
    expect(relay.received).toBe(0);
  });

  it("is used without any check with SMTP_TLS=insecure", async () => {
    const relay = await startRelay("smtps");
    const mailer = createMailer({
      smtpUrl: `smtps://127.0.0.1:${relay.port}`,
      pool: 1,
      tls: { mode: "insecure" },
    });
    expect((await mailer.sendRaw(envelope, message)).response).toMatch(/^250/);
    mailer.close();
  });

  it.each(["smtps", "starttls"] as const)(
    "is never sent an IP address as TLS server name, and its certificate is still checked against the IP (%s)",
    async (mode) => {
      const relay = await startRelay(mode);
      const scheme = mode === "smtps" ? "smtps" : "smtp";
      for (const host of ["127.0.0.1", "localhost"]) {
        const mailer = createMailer({
          smtpUrl: `${scheme}://${host}:${relay.port}`,
          pool: 1,
          tls: { mode: "verify", ca },
        });
        await mailer.sendRaw(envelope, message);
        mailer.close();
      }
      expect(relay.servernames).toEqual([null, "localhost"]);
      // A certificate for localhost only does not pass for 127.0.0.1: the IP is checked, not skipped.
      run("req", "-new", "-key", "relay.key", "-out", "named.csr", "-subj", "/CN=localhost");
      writeFileSync(join(dir, "named.cnf"), "subjectAltName=DNS:localhost\n");
      run(
        ...["x509", "-req", "-in", "named.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"],
        ...["-out", "named.crt", "-days", "2", "-extfile", "named.cnf"],
      );
      const named = await startRelay(mode, { cert: readFileSync(join(dir, "named.crt")) });
      const mailer = createMailer({
        smtpUrl: `${scheme}://127.0.0.1:${named.port}`,
        pool: 1,
        tls: { mode: "verify", ca },
      });
      await expect(mailer.sendRaw(envelope, message)).rejects.toMatchObject({ code: "ETLS" });
      mailer.close();
    },
  );
});

function run(...args: string[]) {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

/** A relay certificate signed by the test CA with set validity dates (`openssl ca` can backdate). */
function signedCertificate(name: string, startDate: string, endDate: string): Buffer {
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "1000\n");
  writeFileSync(
    join(dir, "ca.cnf"),
    "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n",
  );
  run(
    ...["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", "relay.csr"],
    ...[
      "-out",
      `${name}.crt`,
      "-startdate",
      startDate,
      "-enddate",
      endDate,
      "-extfile",
      "ext.cnf",
      "-notext",
    ],
  );
  return readFileSync(join(dir, `${name}.crt`));
}

/** The relay's key in a certificate it signed itself, for localhost. */
function selfSignedCertificate(): Buffer {
  run(
    ...["req", "-x509", "-key", "relay.key", "-out", "self.crt", "-days", "2", "-subj", "/CN=localhost"],
    ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
  );
  return readFileSync(join(dir, "self.crt"));
}

describe("a relay certificate that cannot be trusted", () => {
  const cases = [
    ["expired", () => signedCertificate("expired", "20200101000000Z", "20200102000000Z"), /expired/i],
    ["self-signed", selfSignedCertificate, /self.signed/i],
  ] as const;
  it.each(cases)(
    "is a TLS failure, and the pause it causes gives the reason, even with SMTP_CA_FILE set (%s)",
    async (_kind, certificate, said) => {
      const relay = await startRelay("smtps", { cert: certificate() });
      const mailer = createMailer({
        smtpUrl: `smtps://localhost:${relay.port}`,
        pool: 1,
        tls: { mode: "verify", ca },
      });
      const error = await mailer.sendRaw(envelope, message).catch((e: unknown) => e);
      mailer.close();
      expect(error).toMatchObject({ code: "ETLS" });
      expect(relayFault(error)).toMatch(/^TLS with the SMTP relay failed/);
      expect(relayFault(error)).toMatch(said);
      expect(relay.received).toBe(0);
    },
  );
});

/** An address of this machine that is not loopback, if it has one (a relay "elsewhere" for the tests). */
const outwardAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === "IPv4" && !i.internal)?.address;

describe("a relay that offers no STARTTLS", () => {
  it("is required to use TLS unless it is on this machine or SMTP_TLS=insecure", () => {
    const required = (url: string, mode: "verify" | "insecure" = "verify") =>
      relaySessionOptions({ smtpUrl: url, tls: { mode } }).requireTLS;
    expect(required("smtp://relay.example.org:587")).toBe(true);
    expect(required("smtp://user:pw@192.0.2.25:25")).toBe(true);
    expect(required("smtp://relay.example.org:587", "insecure")).toBe(false);
    expect(required("smtp://127.0.0.1:25")).toBe(false);
    expect(required("smtp://localhost:25")).toBe(false);
    expect(required("smtp://[::1]:25")).toBe(false);
    expect(required("smtp://127.0.0.1:25/?requireTLS=true")).toBe(true);
  });

  it.skipIf(outwardAddress === undefined)(
    "gets neither the password nor a message in clear: the send pauses saying the relay offers no TLS",
    async () => {
      const host = outwardAddress ?? "";
      const logins: string[] = [];
      const relay = await startRelay(
        "starttls",
        {
          hideSTARTTLS: true,
          authOptional: true,
          allowInsecureAuth: true,
          onAuth(auth, _session, callback) {
            logins.push(auth.username ?? "");
            callback(null, { user: auth.username });
          },
        },
        host,
      );
      const url = `smtp://digest:secret@${host}:${relay.port}`;
      const strict = createMailer({ smtpUrl: url, pool: 1 });
      const error = await strict.sendRaw(envelope, message).catch((e: unknown) => e);
      strict.close();
      expect(error).toMatchObject({ code: "ETLS" });
      expect(relayFault(error)).toMatch(/^the SMTP relay offers no TLS/);
      expect(logins).toEqual([]);
      expect(relay.received).toBe(0);
      // SMTP_TLS=insecure is the one way to send in clear.
      const insecure = createMailer({ smtpUrl: url, pool: 1, tls: { mode: "insecure" } });
      expect((await insecure.sendRaw(envelope, message)).response).toMatch(/^250/);
      insecure.close();
      expect(logins).toEqual(["digest"]);
    },
  );
});

const database = await createTestDatabase();

describe("a send through a relay we cannot use", () => {
  it("pauses with a TLS reason when the relay's certificate is not trusted, and goes on once SMTP_CA_FILE is set", async () => {
    const relay = await startRelay("smtps");
    const pipe = await pipeline(database, `smtps://127.0.0.1:${relay.port}`);
    closers.push(() => pipe.close());
    await addReaders(database, 4, "tls.test");
    const issueId = await storeIssue(database);
    const untrusting = await pipe.startWorker();
    const { sendId } = await startSend(pipe.plan, { issueId });
    await waitUntil(
      async () => (await sendStatusOf(database, sendId)) === "paused",
      15_000,
      "the send to pause",
    );
    const [send] = await database.query<{ paused_reason: string }>(
      sql`select paused_reason from sends where id = ${sendId}`,
    );
    expect(send?.paused_reason).toMatch(/TLS/);
    expect(send?.paused_reason).toMatch(/SMTP_CA_FILE/);
    // `digest status` says why, in the words of the relay fault.
    const shown = statusText(await loadSendStatus(database, sendId), "UTC");
    expect(shown).toMatch(
      /paused: TLS with the SMTP relay failed \(.*certificate.*\): for a relay with a private CA set SMTP_CA_FILE/,
    );
    // Nothing is held against the readers: no row failed or bounced, nobody is suppressed.
    const rows = await deliveryRows(database, sendId);
    expect(rows.filter((r) => r.status === "failed" || r.status === "bounced")).toEqual([]);
    const [readers] = await database.query<{ n: number }>(
      sql`select count(*)::int as n from subscribers where email like '%@tls.test' and status = 'active'`,
    );
    expect(readers?.n).toBe(4);
    expect(relay.received).toBe(0);

    // The CA configured, the send resumed: every reader gets the issue once.
    await untrusting.close();
    await pipe.startWorker({}, { tls: { mode: "verify", ca } });
    await controlSend(pipe.plan, sendId, "resume");
    await waitUntil(
      async () => (await sendStatusOf(database, sendId)) === "done",
      20_000,
      "the send to finish",
    );
    expect(relay.received).toBe(4);
  });

  it("pauses with a login reason when the relay refuses our credentials", async () => {
    const relay = await startRelay("smtps", {
      authOptional: false,
      onAuth(_auth, _session, callback) {
        callback(Object.assign(new Error("5.7.8 Authentication credentials invalid"), { responseCode: 535 }));
      },
    });
    const pipe = await pipeline(database, `smtps://digest:wrong@127.0.0.1:${relay.port}`);
    closers.push(() => pipe.close());
    await addReaders(database, 3, "auth.test");
    const issueId = await storeIssue(database);
    await pipe.startWorker({}, { tls: { mode: "verify", ca } });
    const { sendId } = await startSend(pipe.plan, { issueId, again: true });
    await waitUntil(
      async () => (await sendStatusOf(database, sendId)) === "paused",
      15_000,
      "the send to pause",
    );
    const [send] = await database.query<{ paused_reason: string }>(
      sql`select paused_reason from sends where id = ${sendId}`,
    );
    expect(send?.paused_reason).toMatch(/refused our login/);
    const rows = await deliveryRows(database, sendId);
    expect(rows.filter((r) => r.status === "failed" || r.status === "bounced")).toEqual([]);
  });
});

describe("the TLS settings", () => {
  const base = { SECRET: "a-long-enough-secret-for-these-tests-0123456789" };

  it("refuse SMTP_URL options that weaken TLS, a bad SMTP_TLS and an unreadable SMTP_CA_FILE, all at once", () => {
    const env = {
      ...base,
      SMTP_URL: "smtps://relay.example.org:465/?ignoreTLS=true&tls.rejectUnauthorized=false&secure=false",
      SMTP_TLS: "off",
      SMTP_CA_FILE: join(dir, "missing.pem"),
    };
    let error: unknown;
    try {
      loadConfig(["smtpUrl", "smtpTls", "smtpCaFile"], env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(
      /^SMTP_URL may not set ignoreTLS=true, tls\.rejectUnauthorized=false, secure=false/,
    );
    expect(problems[0]).toMatch(/SMTP_TLS/);
    expect(problems[1]).toMatch(/^SMTP_TLS/);
    expect(problems[2]).toMatch(/^SMTP_CA_FILE/);
  });

  it("accept a PEM CA file, insecure, and harmless URL options; verify is the default", () => {
    const cfg = loadConfig(["smtpUrl", "smtpTls", "smtpCaFile"], {
      ...base,
      SMTP_URL: "smtp://relay.example.org:587/?socketTimeout=30000&ignoreTLS=false",
      SMTP_CA_FILE: caFile,
    });
    expect(cfg.smtpTls).toBe("verify");
    expect(cfg.smtpCaFile).toBe(caFile);
    expect(loadConfig(["smtpTls"], { SMTP_TLS: "insecure" }).smtpTls).toBe("insecure");
  });

  it("refuse secure and requireTLS with anything but true, as nodemailer would read them as off", () => {
    for (const query of ["secure=", "secure=no", "requireTLS=false", "requireTLS=", "ignoreTLS=1"]) {
      const env = { SMTP_URL: `smtps://relay.example.org:465/?${query}` };
      expect(() => loadConfig(["smtpUrl"], env), query).toThrow(/SMTP_URL may not set .*SMTP_TLS=insecure/);
    }
    const stricter = "smtp://relay.example.org:587/?secure=true&requireTLS=true&ignoreTLS=false";
    expect(loadConfig(["smtpUrl"], { SMTP_URL: stricter }).smtpUrl).toBe(stricter);
  });

  it("read the query as nodemailer does: one WHATWG refuses is still checked, and a repeated ignoreTLS=false never skips STARTTLS", () => {
    // WHATWG refuses the port; nodemailer's parser reads ignoreTLS=true from it all the same.
    expect(() =>
      loadConfig(["smtpUrl"], { SMTP_URL: "smtp://relay.example.org:99999/?ignoreTLS=true" }),
    ).toThrow(/SMTP_URL may not set ignoreTLS=true/);
    const twice = "smtp://relay.example.org:587/?ignoreTLS=false&ignoreTLS=false";
    expect(loadConfig(["smtpUrl"], { SMTP_URL: twice }).smtpUrl).toBe(twice);
    expect(relaySessionOptions({ smtpUrl: twice }).ignoreTLS).toBe(false);
  });

  it("refuse an SMTP_CA_FILE that holds no certificate or a broken one, saying which", () => {
    const problemOf = (content: string) => {
      const file = join(dir, "broken.pem");
      writeFileSync(file, content);
      try {
        loadConfig(["smtpCaFile"], { SMTP_CA_FILE: file });
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    };
    expect(problemOf("not a certificate\n")).toEqual([
      `SMTP_CA_FILE ${join(dir, "broken.pem")} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ]);
    const garbled = `${ca}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`;
    expect(problemOf(garbled)).toEqual([
      `SMTP_CA_FILE ${join(dir, "broken.pem")}: certificate 2 of 2 cannot be read`,
    ]);
    expect(problemOf(`${ca}${ca}`)).toEqual([]);
  });

  it("are reported by digest doctor together with its other settings' problems", () => {
    let error: unknown;
    try {
      configuredDoctorInputs({
        MAIL_FROM: "News <news@example.org>",
        SMTP_URL: "smtp://relay.example.org:587/?tls.rejectUnauthorized=false",
        SMTP_CA_FILE: join(dir, "missing.pem"),
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.split(" ")[0])).toEqual(["SMTP_URL", "SMTP_CA_FILE"]);
  });

  it("a mailer handed a weakening SMTP_URL anyway refuses it", () => {
    expect(() =>
      createMailer({ smtpUrl: "smtp://127.0.0.1:25/?tls.rejectUnauthorized=false", pool: 1 }),
    ).toThrow(/SMTP_TLS/);
  });
});

describe("the worker at start", () => {
  it("warns that SMTP_TLS=insecure checks no certificate, and that a DKIM_DOMAIN of another organisation breaks DMARC", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const keyFile = join(dir, "dkim.key");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
    const prefix = uniquePrefix("tls-warn");
    const lines: string[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const env = {
      REDIS_URL: sharedRedisUrl,
      QUEUE_PREFIX: prefix,
      SMTP_URL: "smtp://127.0.0.1:9",
      SMTP_TLS: "insecure",
      SECRET: "a-long-enough-secret-for-these-tests-0123456789",
      PUBLIC_URL: "https://news.example.org",
      MAIL_FROM: "News <news@example.org>",
      NEWSLETTER_FILE: join(repoRoot, "newsletter.yaml"),
      DKIM_DOMAIN: "relay-provider.net",
      DKIM_SELECTOR: "s1",
      DKIM_PRIVATE_KEY_FILE: keyFile,
    };
    for (const dkimDomain of ["relay-provider.net", "mail.example.org"]) {
      const settings = loadConfig(workerSettings, { ...env, DKIM_DOMAIN: dkimDomain });
      const running = await startWorkers(settings, database, log);
      await running.close();
    }
    await dropPrefix(prefix);
    const warnings = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level === 40);
    expect(warnings.filter((w) => /SMTP_TLS=insecure/.test(w.msg))).toHaveLength(2);
    const misaligned = warnings.filter((w) => /DKIM_DOMAIN/.test(w.msg));
    expect(misaligned).toHaveLength(1);
    expect(misaligned[0]?.msg).toMatch(
      /relay-provider\.net is not aligned with the From domain example\.org/,
    );
  });
});
