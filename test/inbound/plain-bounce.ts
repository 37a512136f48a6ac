/**
 * A plain-text bounce from a remote MX (no DSN parts): a hard "User unknown" for
 * reader@elsewhere.example, to our postmaster. `more` lines follow its text.
 */
export function plainBounce(domain: string, ...more: string[]): string {
  return [
    "From: MAILER-DAEMON@mx.elsewhere.example",
    `To: postmaster@${domain}`,
    "Subject: Undelivered Mail Returned to Sender",
    "",
    "<reader@elsewhere.example>: host mx.elsewhere.example said: 550 5.1.1 User unknown",
    "",
    ...more,
  ].join("\r\n");
}
