import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type SubscriberPurpose,
  signDeliveryToken,
  signSubscriberToken,
  verifyDeliveryToken,
  verifySubscriberToken,
} from "../../src/subscribers/tokens.js";

const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
const purposes: SubscriberPurpose[] = ["confirm", "unsubscribe", "manage"];
const secret = fc.string({ minLength: 1, maxLength: 64 });
const purpose = fc.constantFrom(...purposes);
const deliveryId = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });

/** Every way to change one character of a token other than its case (the case is folded on purpose). */
function singleCharacterChanges(token: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < token.length; i++) {
    for (const c of alphabet) if (c !== token[i]) out.push(token.slice(0, i) + c + token.slice(i + 1));
    out.push(token.slice(0, i) + token.slice(i + 1));
  }
  for (const c of alphabet) out.push(token + c);
  return out;
}

describe("signed tokens", () => {
  it("a subscriber token verifies for its own purpose and id, and for no other purpose", () => {
    fc.assert(
      fc.property(secret, purpose, fc.uuid(), (key, p, id) => {
        const token = signSubscriberToken(key, p, id);
        expect(token).toMatch(/^[a-z2-7]+$/);
        expect(verifySubscriberToken(key, p, token)).toBe(id.toLowerCase());
        for (const other of purposes.filter((q) => q !== p))
          expect(verifySubscriberToken(key, other, token)).toBeUndefined();
        expect(verifyDeliveryToken(key, token)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it("any single-character change, deletion or appended character is rejected", () => {
    fc.assert(
      fc.property(secret, purpose, fc.uuid(), (key, p, id) => {
        const token = signSubscriberToken(key, p, id);
        const accepted = singleCharacterChanges(token).filter(
          (changed) => verifySubscriberToken(key, p, changed) !== undefined,
        );
        expect(accepted).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it("a delivery token names its own delivery, and any single-character change is rejected", () => {
    fc.assert(
      fc.property(secret, deliveryId, (key, id) => {
        const token = signDeliveryToken(key, id);
        expect(verifyDeliveryToken(key, token)).toBe(id);
        for (const p of purposes) expect(verifySubscriberToken(key, p, token)).toBeUndefined();
        const accepted = singleCharacterChanges(token).filter(
          (c) => verifyDeliveryToken(key, c) !== undefined,
        );
        expect(accepted).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("a token signed with another secret is rejected", () => {
    fc.assert(
      fc.property(secret, secret, purpose, fc.uuid(), deliveryId, (a, b, p, id, d) => {
        fc.pre(a !== b);
        expect(verifySubscriberToken(b, p, signSubscriberToken(a, p, id))).toBeUndefined();
        expect(verifyDeliveryToken(b, signDeliveryToken(a, d))).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it("a confirmation token is refused after its seven days and accepted until then", () => {
    const week = 7 * 24 * 3600 * 1000;
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), (id, now) => {
        const token = signSubscriberToken("k", "confirm", id, now);
        expect(verifySubscriberToken("k", "confirm", token, now + week - 1000)).toBe(id.toLowerCase());
        expect(verifySubscriberToken("k", "confirm", token, now + week + 1000)).toBeUndefined();
      }),
    );
  });

  it("arbitrary strings, however long or odd, verify as nothing and never throw", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300, unit: "binary" }),
          fc.stringMatching(/^[a-z2-7]{0,80}$/),
          fc.stringMatching(/^[A-Za-z0-9_-]{30,60}$/),
        ),
        purpose,
        (junk, p) => {
          expect(verifySubscriberToken("k", p, junk)).toBeUndefined();
          expect(verifyDeliveryToken("k", junk)).toBeUndefined();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("accepts the token in upper case, because mail servers may fold the case of a VERP local part", () => {
    fc.assert(
      fc.property(fc.uuid(), deliveryId, (id, d) => {
        expect(
          verifySubscriberToken("k", "manage", signSubscriberToken("k", "manage", id).toUpperCase()),
        ).toBe(id.toLowerCase());
        expect(verifyDeliveryToken("k", signDeliveryToken("k", d).toUpperCase())).toBe(d);
      }),
    );
  });
});
