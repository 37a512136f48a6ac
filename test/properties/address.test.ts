import fc from "fast-check";
import { simpleParser } from "mailparser";
import addressparser from "nodemailer/lib/addressparser";
import { describe, expect, it } from "vitest";
import {
  isSendableAddress,
  maxNameLength,
  normaliseAddress,
  normaliseName,
} from "../../src/subscribers/address.js";
import { hostileAddress, hostileText } from "./arbitraries.js";

/** Runs `f`, answering its result or undefined when it refused the input with a DigestError "invalid". */
function accepted<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (error) {
    expect(error).toMatchObject({ kind: "invalid" });
    return undefined;
  }
}

// What could end a header, start another, or smuggle a second address into one.
const headerBreaking = /[\p{Cc}\u2028\u2029\s,;:<>"()[\]\\]/u;

describe("address parsing", () => {
  it("any accepted address round-trips and contains no CR, LF, NUL, or header-breaking character", () => {
    let acceptedCount = 0;
    fc.assert(
      fc.property(hostileAddress, (input) => {
        const address = accepted(() => normaliseAddress(input));
        if (address === undefined) return;
        acceptedCount++;
        expect(address).not.toMatch(headerBreaking);
        expect(normaliseAddress(address)).toBe(address);
        expect(address.length).toBeLessThanOrEqual(254);
        expect(isSendableAddress(address)).toBe(true);
        expect(addressparser(address)).toEqual([{ name: "", address }]);
      }),
      { numRuns: 5000 },
    );
    // The generator must reach the accepting side too, or the property says nothing.
    expect(acceptedCount).toBeGreaterThan(500);
  });

  it("an accepted address in a To header reads back as exactly that one recipient", async () => {
    await fc.assert(
      fc.asyncProperty(hostileAddress, async (input) => {
        const address = accepted(() => normaliseAddress(input));
        if (address === undefined) return;
        const mail = await simpleParser(
          `From: a@example.org\r\nTo: ${address}\r\nSubject: s\r\n\r\nbody\r\n`,
        );
        const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
        // mailparser shows a punycode domain in Unicode; normalising again brings it back.
        expect(to.flatMap((t) => t.value.map((v) => normaliseAddress(v.address)))).toEqual([address]);
        expect([...mail.headers.keys()].sort()).toEqual(["from", "subject", "to"]);
      }),
      { numRuns: 1000 },
    );
  });

  it("an address with a line break, NUL or a second address anywhere in it is refused", () => {
    fc.assert(
      fc.property(
        fc.emailAddress(),
        fc.constantFrom("\r\n", "\n", "\r", "\0", "\u2028", ", ", "; ", "\r\nBcc: ", " <", "\t"),
        fc.emailAddress(),
        fc.nat(),
        (a, glue, b, at) => {
          const cut = at % (a.length + 1);
          const input = `${a.slice(0, cut)}${glue}${b}${a.slice(cut)}`;
          expect(() => normaliseAddress(input)).toThrow(expect.objectContaining({ kind: "invalid" }));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("never throws anything but an 'invalid' refusal, whatever the input", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), hostileText, fc.string({ unit: "binary", maxLength: 2000 })),
        (x) => {
          accepted(() => normaliseAddress(x));
          accepted(() => normaliseName(x));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe("name normalisation", () => {
  it("any accepted name is one line of at most 100 characters, without control characters, and stable", () => {
    fc.assert(
      fc.property(hostileText, (input) => {
        const name = accepted(() => normaliseName(input));
        if (name === undefined) return;
        expect(name).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
        expect([...name].length).toBeLessThanOrEqual(maxNameLength);
        expect(name).toBe(name.trim());
        expect(normaliseName(name)).toBe(name);
      }),
      { numRuns: 5000 },
    );
  });
});

describe("the sender's own address gate", () => {
  it("refuses local parts a server would read as another, quoted mailbox", () => {
    for (const address of [
      ".x@example.org",
      "x.@example.org",
      "a..b@example.org",
      "a@b..example",
      "a@-b.example",
    ]) {
      expect(isSendableAddress(address)).toBe(false);
    }
    expect(isSendableAddress("first.last+tag@mail.example.org")).toBe(true);
  });

  it("lets through only addresses mailparser reads back as exactly themselves", async () => {
    const localChars = fc.constantFrom(..."abcXYZ019.!#$%&'*+/=?^_`{|}~-".split(""));
    const address = fc
      .tuple(
        fc.array(localChars, { minLength: 1, maxLength: 12 }),
        fc.constantFrom("example.org", "a.b.example", "x..y"),
      )
      .map(([local, domain]) => `${local.join("")}@${domain}`);
    let sendable = 0;
    await fc.assert(
      fc.asyncProperty(address, async (candidate) => {
        if (!isSendableAddress(candidate)) return;
        sendable++;
        const mail = await simpleParser(
          `From: a@example.org\r\nTo: ${candidate}\r\nSubject: s\r\n\r\nbody\r\n`,
        );
        const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
        expect(to.flatMap((t) => t.value.map((v) => v.address))).toEqual([candidate]);
      }),
      { numRuns: 2000 },
    );
    expect(sendable).toBeGreaterThan(200);
  });
});
