import { type Check, fail, ok, warn } from "./check.js";
import { answered, type DnsLookup } from "./dns.js";

/**
 * SPF (RFC 7208): exactly one `v=spf1` TXT record, every term known, and at most 10 terms that
 * cost a DNS look-up (include, a, mx, ptr, exists, redirect), counted through includes and
 * redirects. Past 10 the receiver answers permerror, which DMARC reads as an SPF fail.
 */
export const spfLookupLimit = 10;

export interface SpfTerm {
  qualifier: "+" | "-" | "~" | "?";
  name: string;
  /** After `:` (mechanisms) or `=` (modifiers); "" when absent. */
  value: string;
  modifier: boolean;
}

const mechanisms = new Set(["all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"]);
const lookupNames = new Set(["include", "a", "mx", "ptr", "exists", "redirect"]);

/** The TXT records that are SPF records: `v=spf1` followed by a space or nothing (§4.5). */
export function spfRecords(txt: string[]): string[] {
  return txt.filter((r) => /^v=spf1(?: |$)/i.test(r.trim()));
}

/** The terms of one record, or the first reason a receiver would answer permerror. */
export function parseSpf(record: string): { terms: SpfTerm[] } | { problem: string } {
  const terms: SpfTerm[] = [];
  for (const word of record.trim().split(/ +/).slice(1)) {
    const modifier = /^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$/.exec(word);
    if (modifier) {
      const name = (modifier[1] ?? "").toLowerCase();
      if ((name === "redirect" || name === "exp") && terms.some((t) => t.modifier && t.name === name))
        return { problem: `"${name}=" appears twice` };
      terms.push({ qualifier: "+", name, value: modifier[2] ?? "", modifier: true });
      continue;
    }
    const mechanism = /^([+\-~?]?)([A-Za-z0-9]+)(?:[:/](.*))?$/.exec(word);
    const name = (mechanism?.[2] ?? "").toLowerCase();
    if (!mechanism || !mechanisms.has(name)) return { problem: `unknown term "${word}"` };
    const value = word.includes(":") ? word.slice(word.indexOf(":") + 1) : "";
    if ((name === "include" || name === "exists") && value === "")
      return { problem: `"${word}" needs a domain` };
    if ((name === "ip4" || name === "ip6") && value === "") return { problem: `"${word}" needs an address` };
    terms.push({ qualifier: (mechanism[1] || "+") as SpfTerm["qualifier"], name, value, modifier: false });
  }
  return { terms };
}

/** Terms that cost a DNS look-up, and the domains whose records count too (macros not expanded). */
export function lookupsOf(terms: SpfTerm[]): { count: number; follow: string[] } {
  const costly = terms.filter((t) => lookupNames.has(t.name));
  const follow = costly
    .filter((t) => t.name === "include" || t.name === "redirect")
    .map((t) => t.value.toLowerCase())
    .filter((d) => d !== "" && !d.includes("%"));
  return { count: costly.length, follow };
}

/**
 * How many look-ups evaluating `domain`'s policy costs, `before` of them already counted on the way
 * here; stops asking once past the limit, so a chain of includes that a hostile DNS server makes up
 * as it goes costs at most a dozen questions. `path` holds the domains whose includes led here:
 * only a domain on it is a loop. A relay that two includes both name is evaluated, and counted,
 * once for each, as a receiver does.
 */
async function countLookups(
  dns: DnsLookup,
  domain: string,
  path: readonly string[],
  before: number,
): Promise<number> {
  if (path.includes(domain)) return spfLookupLimit + 1; // a loop is a permerror as well
  const [record] = spfRecords(await dns.txt(domain));
  if (!record) return 0; // a missing include is a permerror of its own, reported where it is
  const parsed = parseSpf(record);
  if ("problem" in parsed) return 0;
  const { count, follow } = lookupsOf(parsed.terms);
  let total = count;
  for (const next of follow) {
    if (before + total > spfLookupLimit) break;
    total += await countLookups(dns, next, [...path, domain], before + total);
  }
  return total;
}

const example = (domain: string) =>
  `TXT at ${domain}: "v=spf1 mx include:<your relay's SPF domain, e.g. amazonses.com> ~all"`;

/** The SPF check for one domain (the From domain as `spf`, MAIL_DOMAIN as `spf-mail-domain`). */
export function spfCheck(id: string, domain: string, what: string, dns: DnsLookup): Promise<Check> {
  return answered(id, async () => {
    const records = spfRecords(await dns.txt(domain));
    if (records.length === 0)
      return fail(
        id,
        `no SPF record at ${domain} (${what}): receivers cannot tell your relay may send for it`,
        `publish one record, listing your relay: ${example(domain)}`,
      );
    if (records.length > 1)
      return fail(
        id,
        `${records.length} SPF records at ${domain}: receivers answer permerror when there is more than one (${records.map((r) => `"${r}"`).join(" and ")})`,
        `merge them into one TXT record at ${domain}, e.g. "v=spf1 mx include:<relay A> include:<relay B> ~all", and delete the others`,
      );
    const record = records[0] ?? "";
    const parsed = parseSpf(record);
    if ("problem" in parsed)
      return fail(
        id,
        `the SPF record at ${domain} cannot be read: ${parsed.problem} ("${record}")`,
        `replace it with a valid one: ${example(domain)}`,
      );
    const lookups = await countLookups(dns, domain.toLowerCase(), [], 0);
    if (lookups > spfLookupLimit)
      return fail(
        id,
        `the SPF record at ${domain} needs more than ${spfLookupLimit} DNS look-ups (include, a, mx, ptr, exists, redirect, counted through its includes): receivers answer permerror`,
        `flatten it: replace includes you do not send through by nothing, and stable ones by their ip4:/ip6: ranges, until at most ${spfLookupLimit} look-ups remain`,
      );
    const all = parsed.terms.find((t) => t.name === "all" && !t.modifier);
    if (all?.qualifier === "+")
      return warn(
        id,
        `the SPF record at ${domain} ends in "+all": it lets anyone send as ${domain}`,
        `end it in "~all" or "-all": ${example(domain)}`,
      );
    return ok(id, `SPF at ${domain}: "${record}" (${lookups} of ${spfLookupLimit} look-ups)`);
  });
}
