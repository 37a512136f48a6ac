/**
 * DMARC relaxed alignment (RFC 7489 §3.1.1): a DKIM signature counts for DMARC only when its
 * `d=` domain has the same organisational domain as the From address. A signature for the
 * relay's domain, or a typo, passes DKIM and still fails DMARC, so the worker warns at start.
 *
 * The organisational domain is found by a simple rule, not the Public Suffix List: the last two
 * labels, or three under the common two-level public suffixes below (co.uk, go.jp, ...). A domain
 * under a suffix not listed here may be called misaligned when it is not (a warning too many),
 * never the other way round for the listed ones.
 */
const twoLevelSuffixes = new Set([
  ...["ac", "co", "gov", "ltd", "me", "net", "nhs", "org", "plc", "police", "sch"].map((s) => `${s}.uk`),
  ...["ac", "ad", "co", "ed", "go", "gr", "lg", "ne", "or"].map((s) => `${s}.jp`),
  ...["com", "edu", "gov", "net", "org", "asn", "id"].map((s) => `${s}.au`),
  ...["ac", "co", "geek", "gen", "govt", "net", "org", "school"].map((s) => `${s}.nz`),
  ...["ac", "co", "go", "ne", "or", "re"].map((s) => `${s}.kr`),
  ...["com", "edu", "gov", "net", "org"].flatMap((s) => [
    `${s}.cn`,
    `${s}.tw`,
    `${s}.hk`,
    `${s}.sg`,
    `${s}.my`,
    `${s}.br`,
    `${s}.mx`,
    `${s}.ar`,
    `${s}.tr`,
  ]),
  ...["ac", "co", "gov", "org"].flatMap((s) => [`${s}.za`, `${s}.il`, `${s}.in`, `${s}.id`, `${s}.th`]),
  "gob.mx",
  "gob.ar",
  "gob.es",
  "gv.at",
  "gouv.fr",
]);

export function organisationalDomain(domain: string): string {
  const labels = domain.toLowerCase().replace(/\.$/, "").split(".");
  const lastTwo = labels.slice(-2).join(".");
  return twoLevelSuffixes.has(lastTwo) ? labels.slice(-3).join(".") : lastTwo;
}

/** A warning when DKIM_DOMAIN does not align with the From address's domain, else undefined. */
export function dkimAlignmentWarning(dkimDomain: string, fromAddress: string): string | undefined {
  const fromDomain = fromAddress.slice(fromAddress.lastIndexOf("@") + 1);
  if (organisationalDomain(dkimDomain) === organisationalDomain(fromDomain)) return undefined;
  return (
    `DKIM_DOMAIN ${dkimDomain} is not aligned with the From domain ${fromDomain} (DMARC relaxed ` +
    "alignment needs the same organisational domain): receivers with a DMARC policy will treat " +
    "the mail as unsigned; sign with the From domain or a subdomain of it"
  );
}
