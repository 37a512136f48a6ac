import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { dkimKeyOf, dkimRecordValue } from "../../src/doctor/dkim.js";
import { runDoctor } from "../../src/doctor/run.js";
import { digestAsync } from "../helpers/cli.js";
import { type Install, startInstall, writeRsaKey } from "./install.js";

/**
 * `digest doctor` against a private DNS server: each broken record is named, with the record to
 * publish, and makes the command exit 1; a correct install exits 0.
 */
let install: Install;
beforeAll(async () => {
  install = await startInstall();
}, 60_000);
afterAll(() => install?.close());
beforeEach(() => {
  install.dns.zone = install.rightZone();
});

const doctor = (env: Record<string, string | undefined> = {}) =>
  digestAsync(["doctor"], { cwd: install.dir, env: install.env(env) });
const doctorJson = async (env: Record<string, string | undefined> = {}) => {
  const run = await digestAsync(["doctor", "--json"], { cwd: install.dir, env: install.env(env) });
  return { ...run, report: JSON.parse(run.stdout) as { ok: boolean; checks: Check[] } };
};
interface Check {
  id: string;
  status: "ok" | "warn" | "fail";
  message: string;
  fix?: string;
}
const checkOf = (checks: Check[], id: string) => {
  const found = checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${JSON.stringify(checks)}`);
  return found;
};

describe("digest doctor (the compiled command)", () => {
  it("says mail will be accepted and exits 0 when every record, the relay and PUBLIC_URL are right", async () => {
    const run = await doctor();
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    for (const id of [
      "spf",
      "dkim",
      "dmarc",
      "alignment",
      "mx",
      "relay",
      "relay-starttls",
      "relay-auth",
      "public-url",
    ])
      expect(run.stdout).toMatch(new RegExp(`^\\[ok\\]\\s+${id}: `, "m"));
    expect(run.stdout).toContain("Mail should be accepted");
  }, 60_000);

  it("--json prints exactly one object with one entry per check", async () => {
    const { code, stdout, report } = await doctorJson();
    expect(code).toBe(0);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    expect(report.ok).toBe(true);
    const ids = report.checks.map((c) => c.id);
    expect(ids).toEqual([
      "spf",
      "dkim",
      "dmarc",
      "alignment",
      "mx",
      "relay",
      "relay-starttls",
      "relay-auth",
      "public-url",
    ]);
    for (const check of report.checks) {
      expect(["ok", "warn", "fail"]).toContain(check.status);
      expect(check.message).not.toBe("");
    }
  }, 60_000);

  it("with no DKIM record published, fails dkim, prints the exact TXT record to publish and exits 1", async () => {
    delete install.dns.zone.txt?.["digest._domainkey.example.org"];
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^\[FAIL\] dkim: no DKIM key is published at digest\._domainkey\.example\.org/m,
    );
    expect(run.stdout).toContain(
      `TXT at digest._domainkey.example.org: "v=DKIM1; k=rsa; p=${install.publicKey}"`,
    );
    const { report } = await doctorJson();
    expect(report.ok).toBe(false);
    expect(checkOf(report.checks, "dkim")).toMatchObject({
      status: "fail",
      fix: `TXT at digest._domainkey.example.org: "v=DKIM1; k=rsa; p=${install.publicKey}"`,
    });
    expect(checkOf(report.checks, "spf").status).toBe("ok");
  }, 60_000);

  it("with two SPF records, fails spf saying receivers answer permerror, and exits 1", async () => {
    install.dns.zone.txt = {
      ...install.dns.zone.txt,
      "example.org": ["v=spf1 mx ~all", "v=spf1 include:_spf.relay.test -all"],
    };
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^\[FAIL\] spf: 2 SPF records at example\.org: receivers answer permerror/m);
    expect(run.stdout).toContain("merge them into one TXT record at example.org");
  }, 60_000);

  it("shows a record's control characters as \\xNN, so a hostile DNS answer cannot rewrite the terminal", async () => {
    install.dns.zone.txt = {
      ...install.dns.zone.txt,
      "example.org": ["v=spf1 \u001b[2J\u001b[1;1H[ok] all fine -all"],
    };
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain("\u001b");
    expect(run.stdout).toContain("\\x1b[2J\\x1b[1;1H");
  }, 60_000);

  it("refuses an unreadable DNS_SERVERS with exit 2 before asking anything", async () => {
    const run = await doctor({ DNS_SERVERS: "dns.example.net,127.0.0.1:99999" });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("DNS_SERVERS comma-separated IP addresses with an optional port");
    expect(run.stdout).toBe("");
  }, 60_000);
});

describe("each DNS problem is named with its fix (the doctor's domain function)", () => {
  const run = (overrides = {}) => runDoctor(install.inputs(overrides));

  it("a correct install passes every record check", async () => {
    const report = await run();
    expect(report.ok).toBe(true);
    for (const id of ["spf", "dkim", "dmarc", "alignment", "mx"])
      expect(checkOf(report.checks, id).status).toBe("ok");
  });

  it("a published DKIM key that is not the private key's fails, with the right key to publish", async () => {
    const other = dkimKeyOf(readFileSync(writeRsaKey(install.dir, "other.key", 2048), "utf8")).publicKey;
    install.dns.zone.txt = {
      ...install.dns.zone.txt,
      "digest._domainkey.example.org": [dkimRecordValue(other)],
    };
    const report = await run();
    expect(report.ok).toBe(false);
    const dkim = checkOf(report.checks, "dkim");
    expect(dkim.status).toBe("fail");
    expect(dkim.message).toContain(
      "is not the public key of DKIM_PRIVATE_KEY_FILE (a different 2048-bit key)",
    );
    expect(dkim.fix).toBe(
      `replace the record with: TXT at digest._domainkey.example.org: "v=DKIM1; k=rsa; p=${install.publicKey}"`,
    );
  });

  it("a 1024-bit DKIM key fails even when its record matches, with the commands for a 2048-bit key", async () => {
    const weakFile = writeRsaKey(install.dir, "weak.key", 1024);
    const weak = dkimKeyOf(readFileSync(weakFile, "utf8")).publicKey;
    install.dns.zone.txt = {
      ...install.dns.zone.txt,
      "digest._domainkey.example.org": [dkimRecordValue(weak)],
    };
    const report = await run({
      dkim: { domain: "example.org", selector: "digest", privateKeyFile: weakFile },
    });
    expect(report.ok).toBe(false);
    const dkim = checkOf(report.checks, "dkim");
    expect(dkim.status).toBe("fail");
    expect(dkim.message).toContain("the DKIM key is RSA 1024 bits: signers must use at least 2048");
    expect(dkim.fix).toContain("openssl genrsa -out dkim-digest2.key 2048");
    expect(dkim.fix).toContain('TXT at digest2._domainkey.example.org: "v=DKIM1; k=rsa; p=<the base64');
  });

  it("without DKIM configured, fails saying unsigned bulk mail is rejected, with the key commands and the record", async () => {
    const report = await run({ dkim: {} });
    const dkim = checkOf(report.checks, "dkim");
    expect(dkim.status).toBe("fail");
    expect(dkim.message).toContain("DKIM is not configured");
    expect(dkim.message).toContain("Gmail and Microsoft reject");
    expect(dkim.fix).toContain("openssl genrsa -out dkim-digest.key 2048");
    expect(dkim.fix).toContain("DKIM_DOMAIN=example.org DKIM_SELECTOR=digest");
    expect(dkim.fix).toContain('TXT at digest._domainkey.example.org: "v=DKIM1; k=rsa; p=');
    expect(report.ok).toBe(false);
  });

  it("with no DMARC record at the From domain or its organisation, fails dmarc with an example record", async () => {
    delete install.dns.zone.txt?.["_dmarc.example.org"];
    const report = await run({ fromAddress: "news@letters.example.org" });
    const dmarc = checkOf(report.checks, "dmarc");
    expect(dmarc.status).toBe("fail");
    expect(dmarc.message).toContain("no DMARC record at _dmarc.letters.example.org or _dmarc.example.org");
    expect(dmarc.fix).toContain(
      'TXT at _dmarc.letters.example.org: "v=DMARC1; p=none; rua=mailto:dmarc-reports@letters.example.org"',
    );
    expect(report.ok).toBe(false);
  });

  it("finds the organisational domain's DMARC record for a From subdomain", async () => {
    const report = await run({ fromAddress: "news@letters.example.org", mailDomain: "example.org" });
    expect(checkOf(report.checks, "dmarc")).toMatchObject({ status: "ok" });
    expect(checkOf(report.checks, "dmarc").message).toContain("_dmarc.example.org");
    expect(checkOf(report.checks, "alignment").status).toBe("ok");
  });

  it("a From domain not aligned with DKIM d= fails alignment, naming the domain to sign with", async () => {
    install.dns.zone.txt = {
      ...install.dns.zone.txt,
      "newsletter.test": ["v=spf1 include:_spf.relay.test -all"],
      "_dmarc.newsletter.test": ["v=DMARC1; p=reject"],
    };
    const report = await run({ fromAddress: "news@newsletter.test", mailDomain: "example.org" });
    const alignment = checkOf(report.checks, "alignment");
    expect(alignment.status).toBe("fail");
    expect(alignment.message).toContain(
      "DKIM d=example.org is not aligned with the From domain newsletter.test",
    );
    expect(alignment.fix).toContain("DKIM_DOMAIN=newsletter.test");
    expect(checkOf(report.checks, "dkim").status).toBe("ok");
    expect(report.ok).toBe(false);
  });

  it("an SPF record past 10 look-ups through its includes fails", async () => {
    const includes = Array.from({ length: 6 }, (_, i) => `include:_spf${i}.relay.test`).join(" ");
    const txt: Record<string, string[]> = {
      ...install.dns.zone.txt,
      "example.org": [`v=spf1 ${includes} -all`],
    };
    for (let i = 0; i < 6; i++) txt[`_spf${i}.relay.test`] = ["v=spf1 a mx -all"];
    install.dns.zone.txt = txt;
    const spf = checkOf((await run()).checks, "spf");
    expect(spf.status).toBe("fail");
    expect(spf.message).toContain("needs more than 10 DNS look-ups");
  });

  it("a relay included along two paths is counted along each, not taken for a loop", async () => {
    install.dns.zone.txt = {
      ...install.dns.zone.txt,
      "example.org": ["v=spf1 include:a.relay.test include:b.relay.test -all"],
      "a.relay.test": ["v=spf1 include:shared.relay.test -all"],
      "b.relay.test": ["v=spf1 include:shared.relay.test -all"],
      "shared.relay.test": ["v=spf1 ip4:192.0.2.1 -all"],
    };
    const spf = checkOf((await run()).checks, "spf");
    expect(spf.status).toBe("ok");
    expect(spf.message).toContain("(4 of 10 look-ups)");
  });

  it("an SPF include loop fails as past the look-up limit", async () => {
    install.dns.zone.txt = {
      ...install.dns.zone.txt,
      "example.org": ["v=spf1 include:a.relay.test -all"],
      "a.relay.test": ["v=spf1 include:b.relay.test -all"],
      "b.relay.test": ["v=spf1 include:a.relay.test -all"],
    };
    const spf = checkOf((await run()).checks, "spf");
    expect(spf.status).toBe("fail");
    expect(spf.message).toContain("needs more than 10 DNS look-ups");
  });

  it("stops asking once an include chain is past the limit, however long the DNS makes it", async () => {
    // A DNS server of anyone's choosing can answer every name in a chain that never ends.
    const asked = new Set<string>();
    const zone: Record<string, string[]> = {
      ...install.dns.zone.txt,
      "example.org": ["v=spf1 include:0.chain.test -all"],
    };
    install.dns.zone.txt = new Proxy(zone, {
      get(target, name: string) {
        const link = /^(\d+)\.chain\.test$/.exec(name);
        if (!link) return target[name];
        asked.add(name);
        const n = Number(link[1]);
        return n < 200 ? [`v=spf1 include:${n + 1}.chain.test -all`] : ["v=spf1 -all"];
      },
    });
    const spf = checkOf((await run()).checks, "spf");
    expect(spf.status).toBe("fail");
    expect(spf.message).toContain("needs more than 10 DNS look-ups");
    expect(asked.size).toBeLessThanOrEqual(11);
  });

  it("without an MX for MAIL_DOMAIN, fails mx with the record to publish", async () => {
    install.dns.zone.mx = {};
    const report = await run();
    const mx = checkOf(report.checks, "mx");
    expect(mx.status).toBe("fail");
    expect(mx.message).toContain(
      "no MX record for MAIL_DOMAIN example.org: bounces and mail to subscribe@example.org",
    );
    expect(mx.fix).toContain('MX at example.org: "10 mail.example.org."');
    expect(report.ok).toBe(false);
  });

  it("a DNS server that does not answer gives a clear fail within seconds, not a hang", async () => {
    const started = Date.now();
    // A UDP port with nobody on it: every question times out or is refused.
    const report = await run({ dnsServers: ["127.0.0.1:9"] });
    expect(Date.now() - started).toBeLessThan(15_000);
    const spf = checkOf(report.checks, "spf");
    expect(spf.status).toBe("fail");
    expect(spf.message).toMatch(/^DNS gave no answer for TXT example\.org via 127\.0\.0\.1:9/);
    expect(spf.fix).toContain("DNS_SERVERS");
  }, 30_000);
});
