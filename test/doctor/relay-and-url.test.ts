import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Check } from "../../src/doctor/check.js";
import { runDoctor } from "../../src/doctor/run.js";
import { digestAsync } from "../helpers/cli.js";
import { type Install, relayUser, startInstall } from "./install.js";

/**
 * The relay of SMTP_URL is reached as the workers reach it, and each way it can fail has its own
 * message: no answer, no STARTTLS, an untrusted certificate, AUTH refused. PUBLIC_URL must be https
 * (plain http only on loopback, as a warning) and answer /healthz.
 */
let install: Install;
beforeAll(async () => {
  install = await startInstall();
}, 60_000);
afterAll(() => install?.close());

const checkOf = (checks: Check[], id: string) => {
  const found = checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${JSON.stringify(checks)}`);
  return found;
};
const relayUrl = (port: number, auth = relayUser) => `smtp://${auth.user}:${auth.pass}@127.0.0.1:${port}`;

/** A port nothing listens on: taken, then given back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("the relay", () => {
  it("a relay without STARTTLS fails relay-starttls, and the password is never sent in clear", async () => {
    const logins: string[] = [];
    const port = await install.startRelay({
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        logins.push(auth.username ?? "");
        callback(null, { user: auth.username });
      },
    });
    const report = await runDoctor(
      install.inputs({ relay: { smtpUrl: relayUrl(port), tls: { mode: "verify" } } }),
    );
    expect(checkOf(report.checks, "relay")).toMatchObject({ status: "ok" });
    const starttls = checkOf(report.checks, "relay-starttls");
    expect(starttls.status).toBe("fail");
    expect(starttls.message).toBe(
      `127.0.0.1:${port} offers no STARTTLS: the password and every message would cross the network in clear`,
    );
    expect(starttls.fix).toContain("smtp://...:587");
    expect(checkOf(report.checks, "relay-auth")).toMatchObject({ status: "fail" });
    expect(checkOf(report.checks, "relay-auth").message).toContain("not tried");
    expect(logins).toEqual([]);
    expect(report.ok).toBe(false);
  });

  it("a relay that refuses AUTH fails relay-auth with its answer, after a verified STARTTLS", async () => {
    const report = await runDoctor(
      install.inputs({
        relay: {
          smtpUrl: relayUrl(install.relayPort, { user: "sender", pass: "wrong" }),
          tls: { mode: "verify", ca: install.ca },
        },
      }),
    );
    expect(checkOf(report.checks, "relay").status).toBe("ok");
    expect(checkOf(report.checks, "relay-starttls").status).toBe("ok");
    const auth = checkOf(report.checks, "relay-auth");
    expect(auth.status).toBe("fail");
    expect(auth.message).toMatch(/refused AUTH for sender: 535 5\.7\.8 Authentication credentials invalid/);
    expect(auth.fix).toContain("check the user and password in SMTP_URL");
    expect(report.ok).toBe(false);
  });

  it("a relay that does not answer fails relay, saying so, and the later steps are not checked", async () => {
    const port = await closedPort();
    const report = await runDoctor(
      install.inputs({ relay: { smtpUrl: relayUrl(port), tls: { mode: "verify" } } }),
    );
    const relay = checkOf(report.checks, "relay");
    expect(relay.status).toBe("fail");
    expect(relay.message).toContain(`no answer from 127.0.0.1:${port}`);
    expect(relay.fix).toContain("check the host and port in SMTP_URL");
    expect(checkOf(report.checks, "relay-starttls").message).toMatch(/^not checked/);
    expect(checkOf(report.checks, "relay-auth").message).toMatch(/^not checked/);
  });

  it("a relay whose certificate is not trusted fails relay-starttls, pointing at SMTP_CA_FILE", async () => {
    const report = await runDoctor(
      install.inputs({ relay: { smtpUrl: relayUrl(install.relayPort), tls: { mode: "verify" } } }),
    );
    expect(checkOf(report.checks, "relay").status).toBe("ok");
    const starttls = checkOf(report.checks, "relay-starttls");
    expect(starttls.status).toBe("fail");
    expect(starttls.message).toContain(`TLS with 127.0.0.1:${install.relayPort} failed`);
    expect(starttls.fix).toContain("SMTP_CA_FILE");
  });

  it("SMTP_TLS=insecure is a warning, not a pass", async () => {
    const report = await runDoctor(
      install.inputs({ relay: { smtpUrl: relayUrl(install.relayPort), tls: { mode: "insecure" } } }),
    );
    expect(checkOf(report.checks, "relay-starttls").status).toBe("warn");
    expect(checkOf(report.checks, "relay-auth").status).toBe("ok");
  });

  it("without SMTP_URL the command fails relay and says what to set (the compiled command)", async () => {
    const run = await digestAsync(["doctor", "--json"], {
      cwd: install.dir,
      env: install.env({ SMTP_URL: undefined }),
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { ok: boolean; checks: Check[] };
    expect(report.ok).toBe(false);
    expect(checkOf(report.checks, "relay")).toMatchObject({
      status: "fail",
      message: "SMTP_URL is not set: the workers have no relay to send through",
    });
  }, 60_000);
});

describe("PUBLIC_URL", () => {
  it("plain http on a host other than loopback fails (the compiled command exits 1)", async () => {
    const run = await digestAsync(["doctor"], {
      cwd: install.dir,
      env: install.env({ PUBLIC_URL: "http://news.example.org" }),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^\[FAIL\] public-url: PUBLIC_URL http:\/\/news\.example\.org is plain http: one-click unsubscribe \(RFC 8058\) needs https/m,
    );
    expect(run.stdout).toContain("PUBLIC_URL=https://news.example.org");
  }, 60_000);

  it("an https URL that does not answer fails", async () => {
    const port = await closedPort();
    const report = await runDoctor(install.inputs({ publicUrl: `https://127.0.0.1:${port}` }));
    const check = checkOf(report.checks, "public-url");
    expect(check.status).toBe("fail");
    expect(check.message).toContain(`https://127.0.0.1:${port}/healthz does not answer`);
    expect(report.ok).toBe(false);
  });

  it("plain http on loopback that answers is a warning only: the report stays ok", async () => {
    const report = await runDoctor(install.inputs({ publicUrl: install.httpUrl }));
    expect(checkOf(report.checks, "public-url").status).toBe("warn");
    expect(report.ok).toBe(true);
  });
});
