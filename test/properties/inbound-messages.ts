import fc from "fast-check";
import { signDeliveryToken, signSubscriberToken } from "../../src/subscribers/tokens.js";
import { hostileAddress, hostileText } from "./arbitraries.js";

/**
 * Generated malformed inbound mail: broken MIME, binary, NUL in headers, huge header lines, hostile
 * From lines with CR/LF, nested multipart (bounded), bounce- and complaint-looking garbage, and
 * forged VERP tokens, sent to every kind of address the inbound server accepts.
 */
export interface FuzzMessage {
  envelopeFrom: string;
  to: string;
  raw: Buffer;
}

export function inboundArbitrary(domain: string, secret: string): fc.Arbitrary<FuzzMessage> {
  const forged = fc.stringMatching(/^[a-z2-7]{10,60}$/);
  const to = fc.oneof(
    fc.constantFrom("subscribe", "unsubscribe", "postmaster", "abuse", "news", "nobody", "subscribe+x"),
    forged.map((t) => `unsubscribe+${t}`),
    forged.map((t) => `bounces+${t}`),
    // Correctly signed, for deliveries and readers that do not exist.
    fc.integer({ min: 1_000_000, max: 2 ** 40 }).map((id) => `bounces+${signDeliveryToken(secret, id)}`),
    fc.uuid().map((id) => `unsubscribe+${signSubscriberToken(secret, "unsubscribe", id)}`),
  );
  const forgedMessageId = fc
    .tuple(
      fc.uuid(),
      fc.integer({ min: 1, max: 999_999_999_999_999 }),
      fc.constantFrom(domain, "other.example"),
    )
    .map(([uuid, id, host]) => `<${uuid}.${id}@${host}>`);
  const fromLine = fc.oneof(
    fc.emailAddress().map((a) => `From: ${a}`),
    hostileAddress.map((a) => `From: ${a}`),
    hostileText.map((n) => `From: "${n}" <someone@readers.example>`),
    fc.constantFrom(
      "From: a@readers.example\r\nBcc: victim@example.org",
      "From: <>",
      "From:",
      "From: undisclosed-recipients:;",
      "From: a@readers.example, b@readers.example",
      `From: ${"x".repeat(100_000)}@readers.example`,
      "From: =?utf-8?q?x=0D=0ABcc=3A_v=40example.org?= <a@readers.example>",
      "From: MAILER-DAEMON@mx.example",
    ),
  );
  const extraHeader = fc.constantFrom(
    "",
    "Subject: subscribe",
    "Subject: unsubscribe",
    "Subject: Re: subscribe",
    "Subject: \0\0subscribe\0",
    `Subject: ${"s".repeat(200_000)}`,
    "Auto-Submitted: auto-replied",
    "Precedence: bulk",
    "List-Id: <x.example>",
    "X-Header-With-NUL: a\0b",
    "Content-Transfer-Encoding: base64",
    "Content-Transfer-Encoding: quoted-printable",
    "Content-Type: text/plain; charset=x-unknown-charset",
    "Content-Type: multipart/mixed",
    "MIME-Version: 1.0 (garbage",
    ": no name",
    "Broken header without colon",
  );
  const nested = fc.integer({ min: 1, max: 60 }).map((depth) => {
    let body = "subscribe";
    for (let i = depth; i > 0; i--)
      body = `--b${i}\r\nContent-Type: multipart/mixed; boundary="b${i + 1}"\r\n\r\n${body}\r\n--b${i}--`;
    return `Content-Type: multipart/mixed; boundary="b1"\r\n\r\n${body}`;
  });
  const dsn = fc
    .tuple(
      forgedMessageId,
      hostileAddress,
      hostileText,
      fc.constantFrom("5.1.1", "4.2.2", "9.9.9", "", "5.7.1"),
    )
    .map(([mid, rcpt, diag, status]) =>
      [
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        "",
        "--r",
        "Content-Type: text/plain",
        "",
        `${diag}\r\n550 5.1.1 <${rcpt}>: User unknown`,
        "--r",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.readers.example",
        "",
        `Final-Recipient: rfc822; ${rcpt}`,
        "Action: failed",
        `Status: ${status}`,
        `Diagnostic-Code: smtp; ${diag}`,
        "",
        "--r",
        "Content-Type: text/rfc822-headers",
        "",
        `Message-ID: ${mid}`,
        "--r--",
      ].join("\r\n"),
    );
  const arf = fc
    .tuple(
      forgedMessageId,
      fc.constantFrom("abuse", "opt-out", "auth-failure", "", "\0", "x".repeat(500)),
      hostileAddress,
    )
    .map(([mid, type, rcpt]) =>
      [
        'Content-Type: multipart/report; report-type=feedback-report; boundary="f"',
        "",
        "--f",
        "Content-Type: message/feedback-report",
        "",
        `Feedback-Type: ${type}`,
        `Original-Rcpt-To: ${rcpt}`,
        "",
        "--f",
        "Content-Type: message/rfc822",
        "",
        `Message-ID: ${mid}`,
        `To: ${rcpt}`,
        "",
        "body",
      ].join("\r\n"),
    );
  const plainBounce = fc
    .tuple(forgedMessageId, hostileAddress)
    .map(
      ([mid, rcpt]) =>
        `\r\nThis is the mail system at host mx.example.\r\n\r\n<${rcpt}>: host said: 550 5.1.1 user unknown\r\n\r\nMessage-ID: ${mid}\r\n`,
    );
  const tail = fc.oneof(
    fc.constant("\r\n\r\nsubscribe\r\n"),
    hostileText.map((t) => `\r\n\r\n${t}\r\n`),
    nested.map((n) => `\r\n${n}`),
    dsn.map((d) => `\r\n${d}`),
    arf.map((a) => `\r\n${a}`),
    plainBounce,
    fc.constant(
      '\r\nContent-Type: multipart/alternative; boundary="never-closed"\r\n\r\n--never-closed\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64***\r\n',
    ),
  );
  const message = fc
    .tuple(fromLine, fc.array(extraHeader, { maxLength: 4 }), tail)
    .map(([from, extra, rest]) =>
      Buffer.from(`${[from, ...extra.filter(Boolean)].join("\r\n")}${rest}`, "utf8"),
    );
  const raw = fc.oneof(
    { weight: 8, arbitrary: message },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)) },
    {
      weight: 1,
      arbitrary: fc.string({ maxLength: 500, unit: "binary" }).map((s) => Buffer.from(s, "utf8")),
    },
  );
  const envelopeFrom = fc.oneof(
    fc.constant(""),
    fc.emailAddress(),
    fc.constantFrom("mailer-daemon@mx.example", `news@${domain}`, "a@readers.example"),
  );
  // A few try to relay through us, which must be refused at RCPT.
  const recipient = fc.oneof(
    { weight: 20, arbitrary: to.map((local) => `${local}@${domain}`) },
    { weight: 1, arbitrary: fc.constantFrom("victim@other.example", `subscribe@${domain}.evil.example`) },
  );
  return fc.record({ envelopeFrom, to: recipient, raw });
}
