import addressparser from "nodemailer/lib/addressparser";
import { DigestError } from "../errors.js";
import type { Newsletter } from "../newsletter.js";

/** Who mail comes from and where readers' links and replies lead. */
export interface MailIdentity {
  from: { name: string; address: string };
  replyTo?: string;
  /** MAIL_DOMAIN: inbound addresses, VERP return paths, Message-IDs. */
  domain: string;
  /** PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  listName: string;
}

export function parseMailbox(value: string, what: string): { name: string; address: string } {
  const [first, ...rest] = addressparser(value, { flatten: true });
  if (!first || rest.length > 0 || !first.address || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(first.address)) {
    throw new DigestError(
      "invalid",
      `${what} "${value}" is not one mail address (use "Name <address@domain>")`,
    );
  }
  return { name: first.name, address: first.address };
}

export function resolveIdentity(
  settings: { mailFrom?: string; mailDomain?: string; publicUrl: string },
  newsletter: Newsletter,
): MailIdentity {
  const from = parseMailbox(
    settings.mailFrom ?? newsletter.from,
    settings.mailFrom ? "MAIL_FROM" : "the newsletter's from",
  );
  const domain = settings.mailDomain ?? from.address.split("@")[1]?.toLowerCase() ?? "";
  return {
    from: { name: from.name || newsletter.name, address: from.address },
    replyTo: newsletter.replyTo,
    domain,
    publicUrl: settings.publicUrl,
    listName: newsletter.name,
  };
}

/** The List-Id header value (RFC 2919): a readable phrase and a stable id under our domain. */
export function listId(identity: MailIdentity): string {
  const label = identity.listName
    .replace(/[^\x20-\x7e]|["\\]/g, "")
    .trim()
    .slice(0, 60);
  const slug =
    identity.listName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "") || "newsletter";
  return `"${label}" <${slug}.${identity.domain}>`;
}
