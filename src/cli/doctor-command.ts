import { readFileSync } from "node:fs";
import { type Config, ConfigError, type Env, environment, loadConfig, resolvePublicUrl } from "../config.js";
import type { DoctorReport } from "../doctor/check.js";
import { checklistText } from "../doctor/check.js";
import { type DoctorInputs, runDoctor } from "../doctor/run.js";
import { loadNewsletter } from "../newsletter.js";
import { parseMailbox } from "../sending/identity.js";

/** The settings the doctor reads: only those that decide whether mail is accepted. */
const doctorSettings = [
  "mailFrom",
  "mailDomain",
  "newsletterFile",
  "dkimDomain",
  "dkimSelector",
  "dkimPrivateKeyFile",
  "smtpTls",
  "smtpCaFile",
  "publicUrl",
  "port",
  "dnsServers",
] as const;

/** This install's settings as the doctor's inputs. A missing SMTP_URL is a finding, not an error. */
export function configuredDoctorInputs(env: Env = environment()): DoctorInputs {
  // Both loads run before either throws, so a bad SMTP_URL and a bad SMTP_CA_FILE are reported together.
  const problems: string[] = [];
  let smtpUrl: string | undefined;
  try {
    smtpUrl = loadConfig(["smtpUrl"], env).smtpUrl;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems.filter((p) => !p.endsWith("is required")));
  }
  let settings: Config<(typeof doctorSettings)[number]>;
  try {
    settings = loadConfig(doctorSettings, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError([...problems, ...error.problems]);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const from = settings.mailFrom
    ? parseMailbox(settings.mailFrom, "MAIL_FROM")
    : parseMailbox(loadNewsletter(settings.newsletterFile).from, "the newsletter's from");
  const fromDomain = from.address.slice(from.address.lastIndexOf("@") + 1).toLowerCase();
  let ca: string | undefined;
  if (settings.smtpCaFile) {
    try {
      ca = readFileSync(settings.smtpCaFile, "utf8");
    } catch (error) {
      throw new ConfigError([`SMTP_CA_FILE cannot be read: ${(error as Error).message}`]);
    }
  }
  return {
    fromAddress: from.address,
    mailDomain: settings.mailDomain ?? fromDomain,
    dkim: {
      ...(settings.dkimDomain ? { domain: settings.dkimDomain } : {}),
      ...(settings.dkimSelector ? { selector: settings.dkimSelector } : {}),
      ...(settings.dkimPrivateKeyFile ? { privateKeyFile: settings.dkimPrivateKeyFile } : {}),
    },
    relay: { ...(smtpUrl ? { smtpUrl } : {}), tls: { mode: settings.smtpTls, ...(ca ? { ca } : {}) } },
    // Not resolvePublicUrl's refusal of plain http: here that is a finding the doctor reports.
    publicUrl: settings.publicUrl ?? resolvePublicUrl({ publicUrl: undefined, port: settings.port }).url,
    ...(settings.dnsServers ? { dnsServers: settings.dnsServers } : {}),
  };
}

/** The doctor on this install's settings: what `digest doctor` and the console's page run. */
export function runConfiguredDoctor(env?: Env): Promise<DoctorReport> {
  return runDoctor(configuredDoctorInputs(env));
}

/** `digest doctor [--json]`: the checklist (or one JSON object); exit 1 when a check failed. */
export async function doctorCommand(opts: { json?: boolean }): Promise<number> {
  const report = await runConfiguredDoctor();
  process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : checklistText(report));
  return report.ok ? 0 : 1;
}
