import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type ParseWatchdog, startParseWatchdog } from "../helpers/parse-watchdog.js";

/**
 * SPEC §5: parsing is bounded. Random messages up to the inbound size limit (10 MB, the server's
 * default), built from long runs of the characters and words the parsers look for (`@`, dots,
 * dashes, rules, "message follows", DSN fields, SMTP transcripts, MIME boundaries), each parse well
 * under a second: a pattern that backtracks on a long line took minutes. The bound asserted is
 * generous (2 s) for a loaded machine; a runaway parse is stopped at 5 s (see parse-watchdog.ts).
 */
const SIZE_LIMIT = 10 * 1024 * 1024;

const pieces = [
  "a",
  "Z9",
  "@",
  "a@",
  "@@",
  ".",
  "a.",
  "-",
  "b-",
  "_",
  "'",
  " ",
  "\t",
  "\n",
  "\r\n",
  "\n ",
  "\n\n",
  ":",
  "=",
  "<",
  ">",
  "(",
  "!",
  "x@y.zz ",
  "<x@y.zz>",
  "mailer-daemon@",
  "--",
  "==",
  " message ",
  " follows",
  " original ",
  "original message",
  "Received: ",
  "From: ",
  "To: ",
  "Message-ID: <",
  "Final-Recipient: rfc822; ",
  "Action: failed\n",
  "Status: 5.1.1\n",
  "Diagnostic-Code: smtp; 550 ",
  "Feedback-Type: abuse\n",
  ">>> RCPT TO:<a@b.cc>\n",
  ">>> ",
  "<<< 250 ok\n",
  "<<< 550 5.1.1 unknown\n",
  "550 ",
  "5.1.1",
  "4.",
  "user unknown ",
  "unknown user: ",
  "address rejected ",
  "host ",
  "while talking to ",
  "in reply to ",
  "=?utf-8?q?",
  "=41",
  "--b\n",
  "Content-Type: text/plain\n",
  "Content-Type: message/rfc822\n",
  '{"notificationType":',
  "{",
  "é",
  "\u2028",
  "\u0000",
];

const heads = [
  "From: someone@elsewhere.example\nTo: postmaster@news.example\nSubject: hello\n\n",
  "From: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail Returned to Sender\n\n",
  'From: MAILER-DAEMON@mx.example\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\nContent-Type: text/plain\n\n',
  'From: MAILER-DAEMON@mx.example\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\nContent-Type: message/delivery-status\n\n',
  'From: fbl@isp.example\nContent-Type: multipart/report; report-type=feedback-report; boundary="b"\n\n--b\nContent-Type: message/feedback-report\n\n',
  'From: MAILER-DAEMON@mx.example\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/rfc822-headers\n\n',
  "From: someone@elsewhere.example\nContent-Transfer-Encoding: quoted-printable\n\n",
  // The runs in a header of their own.
  "From: MAILER-DAEMON@mx.example\nTo: ",
];

/** A message of up to SIZE_LIMIT bytes: a head, then a few long runs of one short piece each. */
const message = fc
  .record({
    head: fc.constantFrom(...heads),
    runs: fc.array(
      fc.record({
        piece: fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 3 }).map((p) => p.join("")),
        bytes: fc.oneof(fc.integer({ min: 1, max: 64 * 1024 }), fc.integer({ min: 1, max: SIZE_LIMIT })),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ head, runs }) => {
    const body = runs.map(({ piece, bytes }) =>
      piece.repeat(Math.ceil(bytes / piece.length)).slice(0, bytes),
    );
    const raw = Buffer.from(head + body.join("")).subarray(0, SIZE_LIMIT);
    // A counterexample is told by its recipe: printing megabytes of it would drown the report.
    const recipe = `${JSON.stringify(head.slice(0, 60))}… then ${runs
      .map(({ piece, bytes }) => `${JSON.stringify(piece)} to ${bytes} bytes`)
      .join(", ")}`;
    return { raw, [fc.toStringMethod]: () => recipe };
  });

let watchdog: ParseWatchdog | undefined;
afterAll(() => watchdog?.close());

describe("parsing a message", () => {
  it("takes well under a second for any message up to the size limit", { timeout: 300_000 }, async () => {
    watchdog = startParseWatchdog();
    const timed = watchdog;
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const ms = await timed.time(m.raw, 5000);
        slowest = Math.max(slowest, ms);
        expect(ms, `${m.raw.length} bytes: ${m[fc.toStringMethod]()}`).toBeLessThan(2000);
      }),
      // A failure is not shrunk: each smaller try of a runaway parse would take seconds too.
      { numRuns: 40, endOnFailure: true },
    );
    console.log(`parse-bounded: slowest of 40 random messages up to 10 MB: ${Math.round(slowest)} ms`);
  });

  // Messages the random search has found slow before, kept so they are tried on every run.
  it.each([
    {
      name: "a long block of part headers naming a returned message, with no blank line after it",
      raw: `From: someone@elsewhere.example\nTo: postmaster@news.example\n${"Content-Type: text/plain\nContent-Type: message/rfc822\n".repeat(200_000)}`,
    },
  ])("takes well under a second for $name", { timeout: 60_000 }, async ({ raw }) => {
    watchdog ??= startParseWatchdog();
    const bytes = Buffer.from(raw).subarray(0, SIZE_LIMIT);
    expect(await watchdog.time(bytes, 5000)).toBeLessThan(2000);
  });
});
