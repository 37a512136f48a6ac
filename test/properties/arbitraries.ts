import fc from "fast-check";

/**
 * Generators of hostile input shared by the property and fuzz suites: strings that try to end a
 * header and start another (CR, LF, NUL, `Bcc:`), smuggle a second address (commas, angle brackets,
 * groups), or confuse a reader (RTL overrides, encoded words, very long runs).
 */
export const injections = [
  "\r\nBcc: victim@example.org",
  "\nBcc: victim@example.org",
  "\rCc: victim@example.org",
  "\r\n\r\n<html>body</html>",
  "\u0000",
  "\u2028",
  "\u0085",
  ", victim@example.org",
  "; victim@example.org",
  " <victim@example.org>",
  "Bcc: victim@example.org",
  "undisclosed-recipients:;",
  '"',
  "\\",
  "=?utf-8?q?a=0D=0ABcc:_v@example.org?=",
  "\u202Eevil\u202C",
  "مريم",
  "田中",
  "🎉",
  "%0d%0aBcc:%20v@example.org",
  "\t",
  "(comment)",
] as const;

/** Text with a hostile fragment spliced in somewhere, or plain random text of any kind. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.string({ maxLength: 40 }), fc.constantFrom(...injections), fc.string({ maxLength: 40 }))
    .map(([a, b, c]) => a + b + c),
  fc.string({ maxLength: 120, unit: "grapheme" }),
  fc.string({ maxLength: 60, unit: "binary" }),
  fc.constantFrom("x".repeat(101), "x".repeat(5000), "  Aiko  ", "Aiko Tanaka", "O'Brien, Pat"),
);

const localChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-";

/** Addresses that are valid, nearly valid, or valid with something hostile around or inside them. */
export const hostileAddress: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.emailAddress() },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.string({ unit: fc.constantFrom(...localChars), minLength: 1, maxLength: 70 }),
        fc.domain(),
        fc.constantFrom("", " ", "  ", "\t"),
      )
      .map(([local, domain, pad]) => `${pad}${local}@${domain}${pad}`),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.emailAddress(), fc.constantFrom(...injections), fc.nat())
      .map(([address, bad, at]) => {
        const cut = at % (address.length + 1);
        return address.slice(0, cut) + bad + address.slice(cut);
      }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      `${"a".repeat(290)}@example.org`,
      `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(60)}.org`,
      "leser@Bücher.example",
      "مريم@مثال.إختبار",
      "a@b@example.org",
      "Aiko <aiko@example.org>",
      '"a b"@example.org',
      "a@[127.0.0.1]",
      "a@localhost",
      "=?utf-8?q?victim=40evil.example?=@example.org",
      "=?utf-8?b?dmljdGltQGV2aWwuZXhhbXBsZQ==?=@example.org",
      "@example.org",
      "a@",
      "",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
);
