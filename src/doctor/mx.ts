import { type Check, fail, ok } from "./check.js";
import { answered, type DnsLookup } from "./dns.js";

/**
 * MAIL_DOMAIN needs an MX: bounces come back to `bounces+<token>@MAIL_DOMAIN` and readers mail
 * `subscribe@MAIL_DOMAIN`, and many receivers refuse a return path whose domain takes no mail.
 * A "null MX" (RFC 7505: `0 .`) says outright that the domain takes none.
 */
export function mxCheck(mailDomain: string, inboundHost: string, dns: DnsLookup): Promise<Check> {
  const id = "mx";
  const publish = `MX at ${mailDomain}: "10 ${inboundHost}." (the host running digest serve, reachable on port 25 and forwarded to INBOUND_SMTP_PORT)`;
  return answered(id, async () => {
    const records = (await dns.mx(mailDomain)).sort((a, b) => a.priority - b.priority);
    if (records.length === 0)
      return fail(
        id,
        `no MX record for MAIL_DOMAIN ${mailDomain}: bounces and mail to subscribe@${mailDomain} cannot reach the inbound server`,
        publish,
      );
    if (records.every((r) => r.exchange === "" || r.exchange === "."))
      return fail(id, `MAIL_DOMAIN ${mailDomain} has a null MX: it says it takes no mail at all`, publish);
    const hosts = records.map((r) => `${r.priority} ${r.exchange}`).join(", ");
    return ok(id, `MX for ${mailDomain}: ${hosts}`);
  });
}
