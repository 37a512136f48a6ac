import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { dkimKeyOf, dkimRecordValue } from "../../src/doctor/dkim.js";
import type { DoctorInputs } from "../../src/doctor/run.js";
import { type DnsServer, startDnsServer, type Zone } from "../helpers/dns.js";

/**
 * A whole install for `digest doctor` on this machine: a private DNS server, a relay with STARTTLS
 * (certificate from a private CA) and AUTH, an https server answering /healthz, and a DKIM key.
 * Every check passes on `rightZone()`; each test breaks one thing.
 */
export const from = "news@example.org";
export const relayUser = { user: "sender", pass: "s3cret-pass" };

export interface Install {
  dir: string;
  dns: DnsServer;
  caFile: string;
  ca: string;
  /** DKIM_PRIVATE_KEY_FILE: RSA 2048. */
  keyFile: string;
  /** Its `p=` value. */
  publicKey: string;
  relayPort: number;
  httpsUrl: string;
  /** A plain-http /healthz on loopback (a warning, never a failure). */
  httpUrl: string;
  rightZone(): Zone;
  /** A relay of its own for one test (closed with the install). */
  startRelay(options?: Partial<SMTPServerOptions>): Promise<number>;
  inputs(overrides?: Partial<DoctorInputs>): DoctorInputs;
  env(overrides?: Record<string, string | undefined>): Record<string, string | undefined>;
  close(): Promise<void>;
}

export function writeRsaKey(dir: string, name: string, bits: number): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  const file = join(dir, name);
  writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }));
  return file;
}

function makeCertificates(dir: string) {
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  run(
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2"],
    ...["-subj", "/CN=Digest Doctor Test CA", "-addext", "basicConstraints=critical,CA:TRUE"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  );
  run(
    ...["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr"],
    ...["-subj", "/CN=localhost"],
  );
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  run(
    ...["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"],
    ...["-out", "server.crt", "-days", "2", "-extfile", "ext.cnf"],
  );
  return {
    ca: readFileSync(join(dir, "ca.crt"), "utf8"),
    cert: readFileSync(join(dir, "server.crt")),
    key: readFileSync(join(dir, "server.key")),
  };
}

const listening = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );

export async function startInstall(): Promise<Install> {
  const dir = mkdtempSync(join(tmpdir(), "digest-doctor-"));
  const { ca, cert, key } = makeCertificates(dir);
  const keyFile = writeRsaKey(dir, "dkim.key", 2048);
  const publicKey = dkimKeyOf(readFileSync(keyFile, "utf8")).publicKey;
  const rightZone = (): Zone => ({
    txt: {
      "example.org": ["v=spf1 mx include:_spf.relay.test ~all", "google-site-verification=abc"],
      "_spf.relay.test": ["v=spf1 ip4:192.0.2.0/24 -all"],
      "digest._domainkey.example.org": [dkimRecordValue(publicKey)],
      "_dmarc.example.org": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org"],
    },
    mx: { "example.org": [{ exchange: "mail.example.org", priority: 10 }] },
  });
  const dns = await startDnsServer(rightZone());
  const closers: (() => Promise<unknown>)[] = [() => dns.close()];

  async function startRelay(options: Partial<SMTPServerOptions> = {}): Promise<number> {
    const server = new SMTPServer({
      key,
      cert,
      logger: false,
      authMethods: ["PLAIN", "LOGIN"],
      closeTimeout: 500,
      onAuth(auth, _session, callback) {
        if (auth.username === relayUser.user && auth.password === relayUser.pass)
          return callback(null, { user: auth.username });
        callback(Object.assign(new Error("5.7.8 Authentication credentials invalid"), { responseCode: 535 }));
      },
      ...options,
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.server.address() as AddressInfo).port)),
    );
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return port;
  }
  const relayPort = await startRelay();

  const health = (req: { url?: string }, res: { statusCode: number; end(body: string): void }) => {
    res.statusCode = req.url === "/healthz" ? 200 : 404;
    res.end('{"ok":true}');
  };
  const https = createHttpsServer({ key, cert }, health);
  const http = createHttpServer(health);
  const httpsPort = await listening(https as unknown as Server);
  const httpPort = await listening(http);
  closers.push(
    () => new Promise((resolve) => https.close(resolve)),
    () => new Promise((resolve) => http.close(resolve)),
  );
  const caFile = join(dir, "ca.crt");
  const smtpUrl = `smtp://${relayUser.user}:${relayUser.pass}@127.0.0.1:${relayPort}`;
  const install: Install = {
    dir,
    dns,
    caFile,
    ca,
    keyFile,
    publicKey,
    relayPort,
    httpsUrl: `https://127.0.0.1:${httpsPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    rightZone,
    startRelay,
    inputs: (overrides = {}) => ({
      fromAddress: from,
      mailDomain: "example.org",
      dkim: { domain: "example.org", selector: "digest", privateKeyFile: keyFile },
      relay: { smtpUrl, tls: { mode: "verify", ca } },
      publicUrl: install.httpUrl,
      dnsServers: [dns.address],
      timeoutMs: 3000,
      ...overrides,
    }),
    env: (overrides = {}) => ({
      MAIL_FROM: `Example News <${from}>`,
      MAIL_DOMAIN: "example.org",
      DKIM_DOMAIN: "example.org",
      DKIM_SELECTOR: "digest",
      DKIM_PRIVATE_KEY_FILE: keyFile,
      SMTP_URL: smtpUrl,
      SMTP_CA_FILE: caFile,
      SMTP_TLS: undefined,
      PUBLIC_URL: install.httpsUrl,
      // The https server's certificate comes from the test CA: the CLI's fetch trusts it this way.
      NODE_EXTRA_CA_CERTS: caFile,
      DNS_SERVERS: dns.address,
      NEWSLETTER_FILE: undefined,
      ...overrides,
    }),
    async close() {
      for (const close of closers.reverse()) await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return install;
}
