import { Resolver } from "node:dns/promises";
import { type Check, fail } from "./check.js";

/**
 * The DNS questions the doctor asks, behind a seam so each check is a function of the answers.
 * "No such record" is an empty list; a resolver that does not answer (timeout, SERVFAIL, refused)
 * throws `DnsUnanswered`, so a dead DNS is reported as such and never as a missing record.
 */
export interface DnsLookup {
  /** Each TXT record with its character-strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
  txt(name: string): Promise<string[]>;
  mx(name: string): Promise<{ exchange: string; priority: number }[]>;
}

export class DnsUnanswered extends Error {
  override readonly name = "DnsUnanswered";
}

/** Answers that mean "the name or the record does not exist", not "DNS is broken". */
const absent = new Set(["ENOTFOUND", "ENODATA", "NXDOMAIN"]);

/**
 * The system resolver, or DNS_SERVERS (`ip`, `ip:port`, `[ipv6]:port`). Short timeouts and two
 * tries per question: a dead server makes the doctor say so within seconds instead of hanging.
 */
export function createDnsLookup(options: { servers?: string[]; timeoutMs?: number } = {}): DnsLookup {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 1500, tries: 2 });
  if (options.servers && options.servers.length > 0) resolver.setServers(options.servers);
  const via = options.servers?.length ? ` via ${options.servers.join(", ")}` : "";
  async function ask<T>(name: string, type: string, question: () => Promise<T[]>): Promise<T[]> {
    try {
      return await question();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      if (absent.has(code)) return [];
      throw new DnsUnanswered(`DNS gave no answer for ${type} ${name}${via} (${code || String(error)})`, {
        cause: error,
      });
    }
  }
  return {
    txt: (name) => ask(name, "TXT", async () => (await resolver.resolveTxt(name)).map((r) => r.join(""))),
    mx: (name) => ask(name, "MX", () => resolver.resolveMx(name)),
  };
}

const dnsFix =
  "check that DNS answers from this machine, or set DNS_SERVERS to resolvers that do (e.g. DNS_SERVERS=9.9.9.9,1.1.1.1)";

/** Runs a check that asks DNS; a resolver that does not answer makes it a fail saying so. */
export async function answered(id: string, check: () => Promise<Check>): Promise<Check> {
  try {
    return await check();
  } catch (error) {
    if (error instanceof DnsUnanswered) return fail(id, error.message, dnsFix);
    throw error;
  }
}
