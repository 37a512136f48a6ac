import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addressesIn, atTokens, isSpace } from "../../src/bounces/fields.js";
import { reportText } from "../../src/bounces/plaintext.js";

/**
 * The parsers' address and separator scans were patterns that took quadratic time on a long line;
 * they are hand-written now. Each must find exactly what its pattern found, so `digest bounce`
 * prints what it printed: checked against the old patterns on short random text from the
 * characters that matter to them.
 */
const OLD_ADDRESS = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}/g;
const OLD_TOKEN = /[^\s<>()"'[\]:;,]+@[^\s<>()"'[\]:;,]+/g;
const OLD_ORIGINAL_STARTS = new RegExp(
  [
    String.raw`^[ \t]*[-=*_]{2,}.*\b(?:message|headers?|mail|text)\b.*\b(?:follows?|below|original|returned|copy|unsent|undelivered|attached|included)\b.*$`,
    String.raw`^[ \t]*[-=*_]{2,}.*\b(?:original|returned|unsent|undelivered)\b.*\b(?:message|mail|headers?)\b.*$`,
    String.raw`^[ \t]*(?:original message|returned message|unsent message|undelivered message|original message headers)(?: follows)?[ \t]*:?[ \t]*[-=]*[ \t]*$`,
    String.raw`^content-type:[ \t]*(?:message/rfc822|text/rfc822-headers)`,
    String.raw`^(?:return-path|received|dkim-signature|x-received):[ \t]`,
  ].join("|"),
  "im",
);

function oldNormalize(address: string): string {
  const at = address.lastIndexOf("@");
  if (at < 0) return address.trim();
  const local = address.slice(0, at).replace(/^[<"'(\s]+/, "");
  return `${local}@${address.slice(at + 1).toLowerCase()}`.replace(/[>"')\].,;:]+$/, "");
}

const textOf = (pieces: string[], maxLength = 40) =>
  fc.array(fc.constantFrom(...pieces), { maxLength }).map((parts) => parts.join(""));

const addressy = textOf([
  "a",
  "Z",
  "7",
  "-",
  ".",
  "..",
  "@",
  "@@",
  " ",
  "'",
  ">",
  ")",
  "_",
  ":",
  "ab",
  "xy",
  "\u00a0",
]);

describe("the hand-written scans find what their patterns found", () => {
  it("addresses in a text", () => {
    fc.assert(
      fc.property(addressy, (text) => {
        const old = [...text.matchAll(OLD_ADDRESS)].map((m) => oldNormalize(m[0].replace(/^\.+/, "")));
        expect(addressesIn(text)).toEqual(old);
      }),
      { numRuns: 3000 },
    );
  });

  it("address-shaped tokens in a line, with where each starts", () => {
    const separator = (code: number) => isSpace(code) || `<>()"'[]:;,`.includes(String.fromCharCode(code));
    fc.assert(
      fc.property(addressy, (text) => {
        const old = [...text.matchAll(OLD_TOKEN)].map((m) => ({ token: m[0], index: m.index }));
        expect(atTokens(text, separator)).toEqual(old);
      }),
      { numRuns: 3000 },
    );
  });

  it("the line where a returned original message starts", () => {
    const lines = textOf(
      [
        "-",
        "=",
        "_",
        " ",
        "\t",
        ":",
        "x",
        " message",
        "message",
        " headers",
        " follows",
        " below",
        " original",
        "original message",
        " follows",
        "Received: ",
        "content-type: message/rfc822",
        "\n",
        "\r",
        "\u2028",
      ],
      30,
    );
    fc.assert(
      fc.property(lines, (text) => {
        const m = OLD_ORIGINAL_STARTS.exec(text);
        expect(reportText(text)).toBe(m ? text.slice(0, m.index) : text);
      }),
      { numRuns: 5000 },
    );
  });
});
