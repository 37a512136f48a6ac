import { readFileSync } from "node:fs";
import { isLoopbackHostname } from "../config.js";
import { type DoctorReport, reportOf } from "./check.js";
import { type DkimSettings, dkimCheck } from "./dkim.js";
import { alignmentCheck, dmarcCheck } from "./dmarc.js";
import { createDnsLookup, type DnsLookup } from "./dns.js";
import { mxCheck } from "./mx.js";
import { publicUrlCheck } from "./public-url.js";
import { type RelaySettings, relayChecks } from "./relay.js";
import { spfCheck } from "./spf.js";

/** What the doctor looks at: this install's settings, already read and resolved. */
export interface DoctorInputs {
  /** The From address readers see (MAIL_FROM, else the newsletter's). */
  fromAddress: string;
  /** MAIL_DOMAIN: the return path's domain, where bounces and subscribe mail arrive. */
  mailDomain: string;
  dkim: DkimSettings;
  relay: Omit<RelaySettings, "timeoutMs">;
  /** PUBLIC_URL (or its default). */
  publicUrl: string;
  /** DNS_SERVERS; unset: the system resolver. */
  dnsServers?: string[];
  /** Longest wait for each network answer; 5 s by default. */
  timeoutMs?: number;
}

export interface DoctorDeps {
  dns?: DnsLookup;
  fetch?: typeof fetch;
  readKey?: (path: string) => string;
}

/**
 * Every check, in the order a person fixes them: DNS records of the From domain and MAIL_DOMAIN,
 * the relay, the public URL. The DNS checks and the network checks run side by side.
 */
export async function runDoctor(inputs: DoctorInputs, deps: DoctorDeps = {}): Promise<DoctorReport> {
  const timeoutMs = inputs.timeoutMs ?? 5000;
  const dns =
    deps.dns ??
    createDnsLookup({
      ...(inputs.dnsServers ? { servers: inputs.dnsServers } : {}),
      timeoutMs: Math.min(timeoutMs, 2000),
    });
  const fromDomain = (inputs.fromAddress.slice(inputs.fromAddress.lastIndexOf("@") + 1) || "").toLowerCase();
  const mailDomain = inputs.mailDomain.toLowerCase();
  const publicHost = new URL(inputs.publicUrl).hostname;
  const inboundHost = isLoopbackHostname(publicHost) ? `mail.${mailDomain}` : publicHost;
  const readKey = deps.readKey ?? ((path: string) => readFileSync(path, "utf8"));

  const [spf, spfMailDomain, dkim, dmarc, mx, relay, publicUrl] = await Promise.all([
    spfCheck("spf", fromDomain, "the From domain", dns),
    mailDomain !== fromDomain
      ? spfCheck("spf-mail-domain", mailDomain, "MAIL_DOMAIN, the return path receivers check SPF on", dns)
      : undefined,
    dkimCheck(inputs.dkim, fromDomain, dns, readKey),
    dmarcCheck(fromDomain, dns),
    mxCheck(mailDomain, inboundHost, dns),
    relayChecks({ ...inputs.relay, timeoutMs }),
    publicUrlCheck(inputs.publicUrl, timeoutMs, deps.fetch),
  ]);
  return reportOf([
    spf,
    ...(spfMailDomain ? [spfMailDomain] : []),
    dkim,
    dmarc.check,
    alignmentCheck(fromDomain, inputs.dkim.domain, dmarc.policy),
    mx,
    ...relay,
    publicUrl,
  ]);
}
