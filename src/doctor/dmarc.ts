import { organisationalDomain } from "../sending/dkim-alignment.js";
import { type Check, fail, ok } from "./check.js";
import { answered, type DnsLookup } from "./dns.js";

/**
 * DMARC (RFC 7489): the policy at `_dmarc.<From domain>`, else at `_dmarc.<organisational domain>`
 * (§6.6.3), and whether the DKIM `d=` domain is aligned with the From domain (relaxed: the same
 * organisational domain; strict, with `adkim=s`: the same domain). Gmail and Yahoo require a DMARC
 * record of bulk senders, and a DKIM pass counts for DMARC only when it is aligned.
 */
export interface DmarcPolicy {
  /** Where the record was found. */
  name: string;
  record: string;
  tags: Map<string, string>;
}

export function dmarcTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return tags;
}

const isDmarc = (record: string) => /^v\s*=\s*DMARC1\s*(?:;|$)/.test(record.trim());

export const dmarcExample = (fromDomain: string) =>
  `TXT at _dmarc.${fromDomain}: "v=DMARC1; p=none; rua=mailto:dmarc-reports@${fromDomain}" (move to p=quarantine once the reports show only your own mail)`;

/** The DMARC check, and the policy found (the alignment check reads its `adkim`). */
export async function dmarcCheck(
  fromDomain: string,
  dns: DnsLookup,
): Promise<{ check: Check; policy?: DmarcPolicy }> {
  const id = "dmarc";
  let policy: DmarcPolicy | undefined;
  const check = await answered(id, async () => {
    const organisation = organisationalDomain(fromDomain);
    const names = [
      `_dmarc.${fromDomain}`,
      ...(organisation !== fromDomain ? [`_dmarc.${organisation}`] : []),
    ];
    for (const name of names) {
      const records = (await dns.txt(name)).filter(isDmarc);
      if (records.length === 0) continue;
      if (records.length > 1)
        return fail(
          id,
          `${records.length} DMARC records at ${name}: receivers then apply none (RFC 7489 §6.6.3)`,
          `keep only one: ${dmarcExample(fromDomain)}`,
        );
      const record = records[0] ?? "";
      const tags = dmarcTags(record);
      const p = (name === names[0] ? tags.get("p") : (tags.get("sp") ?? tags.get("p")))?.toLowerCase();
      if (p !== "none" && p !== "quarantine" && p !== "reject")
        return fail(
          id,
          `the DMARC record at ${name} has no valid p= policy ("${record}")`,
          `replace it: ${dmarcExample(fromDomain)}`,
        );
      policy = { name, record, tags };
      return ok(id, `DMARC at ${name}: "${record}" (policy ${p})`);
    }
    return fail(
      id,
      `no DMARC record at ${names.join(" or ")}: Gmail and Yahoo require one of bulk senders`,
      dmarcExample(fromDomain),
    );
  });
  return { check, ...(policy ? { policy } : {}) };
}

/** Whether DKIM_DOMAIN aligns with the From domain, under the DMARC record's `adkim` mode. */
export function alignmentCheck(
  fromDomain: string,
  dkimDomain: string | undefined,
  policy?: DmarcPolicy,
): Check {
  const id = "alignment";
  if (!dkimDomain)
    return fail(
      id,
      `no DKIM signature to align with the From domain ${fromDomain} (see dkim)`,
      `set DKIM_DOMAIN=${fromDomain} (and publish its key, see dkim)`,
    );
  const from = fromDomain.toLowerCase();
  const d = dkimDomain.toLowerCase().replace(/\.$/, "");
  const strict = policy?.tags.get("adkim")?.toLowerCase() === "s";
  if (strict ? d === from : organisationalDomain(d) === organisationalDomain(from))
    return ok(id, `DKIM d=${d} is aligned with the From domain ${from}${strict ? " (strict)" : ""}`);
  return fail(
    id,
    strict
      ? `DKIM d=${d} is not the From domain ${from}, and the DMARC record at ${policy?.name} asks for strict alignment (adkim=s): DMARC fails`
      : `DKIM d=${d} is not aligned with the From domain ${from} (DMARC relaxed alignment needs the same organisational domain): receivers treat the mail as unsigned`,
    `sign with the From domain: DKIM_DOMAIN=${from}, and publish the key at <DKIM_SELECTOR>._domainkey.${from}`,
  );
}
