import { describe, expect, it } from "vitest";
import { normaliseAddress, normaliseName } from "../../src/subscribers/address.js";

describe("address normalisation", () => {
  it("lower-cases the domain, keeps the local part, and turns an IDN domain into punycode", () => {
    expect(normaliseAddress("  Aiko.Tanaka@Example.ORG ")).toBe("Aiko.Tanaka@example.org");
    expect(normaliseAddress("leser@Bücher.example")).toBe("leser@xn--bcher-kva.example");
  });

  it.each([
    ["a header injected after a line break", "a@b.com\r\nBcc: victim@example.org"],
    ["a group with a header-like name", "Bcc: x@example.org"],
    ["a display name", "Aiko <aiko@example.org>"],
    ["two addresses", "a@example.org, b@example.org"],
    ["a NUL", "a\u0000@example.org"],
    ["a 300-character address", `${"a".repeat(290)}@example.org`],
    ["a 65-character local part", `${"a".repeat(65)}@example.org`],
    ["no domain dot", "a@localhost"],
    ["two @", "a@b@example.org"],
    ["nothing", ""],
    ["a number", 42],
  ])("refuses %s", (_what, input) => {
    expect(() => normaliseAddress(input)).toThrow(expect.objectContaining({ kind: "invalid" }));
  });
});

describe("name normalisation", () => {
  it("keeps unicode and right-to-left names as they are", () => {
    expect(normaliseName("  مريم ")).toBe("مريم");
    expect(normaliseName("田中 愛子")).toBe("田中 愛子");
    expect(normaliseName("")).toBeUndefined();
  });

  it("refuses line breaks, control characters and names past 100 characters", () => {
    expect(() => normaliseName("Aiko\r\nBcc: x@y.z")).toThrow();
    expect(() => normaliseName("Aiko\u0007")).toThrow();
    expect(() => normaliseName("x".repeat(101))).toThrow();
  });
});
