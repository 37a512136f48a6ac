import { describe, expect, it } from "vitest";
import { readToken, sendKey, signClick, signedFor, signOpen, trackingKey } from "../../src/tracking/token.js";

const key = trackingKey("tracking-secret-0123456789abcdef-0123456789");
const sendA = sendKey(key, "0b7e5a2c-1111-4a8b-9c3d-0123456789ab");
const sendB = sendKey(key, "0b7e5a2c-2222-4a8b-9c3d-0123456789ab");

describe("a tracking token", () => {
  it("is short and URL-safe, and names its delivery and link", () => {
    const token = signClick(sendA, 1_234_567, 12);
    expect(token).toMatch(/^[A-Za-z0-9_-]{19}$/);
    const claim = readToken("click", token);
    expect(claim).toMatchObject({ deliveryId: 1_234_567, linkNo: 12 });
    expect(signedFor(sendA, claim!)).toBe(true);
  });

  it("carries the largest delivery ids the database can hand out", () => {
    const claim = readToken("click", signClick(sendA, Number.MAX_SAFE_INTEGER, 0));
    expect(claim).toMatchObject({ deliveryId: Number.MAX_SAFE_INTEGER, linkNo: 0 });
  });

  it("verifies for its own send only", () => {
    const claim = readToken("click", signClick(sendA, 7, 3))!;
    expect(signedFor(sendB, claim)).toBe(false);
  });

  it("fails when its MAC is moved to another delivery or link", () => {
    const mac = Buffer.from(signClick(sendA, 7, 3), "base64url").subarray(-10);
    for (const [delivery, link] of [
      [8, 3],
      [7, 4],
    ] as const) {
      const payload = Buffer.from(signClick(sendA, delivery, link), "base64url").subarray(0, -10);
      const moved = Buffer.concat([payload, mac]).toString("base64url");
      expect(signedFor(sendA, readToken("click", moved)!)).toBe(false);
    }
  });

  it("of an open is not a click, nor the other way round", () => {
    const open = signOpen(sendA, 7);
    expect(readToken("click", open)).toBeUndefined();
    const asClick = readToken("click", signClick(sendA, 7, 0))!;
    const asOpen = readToken("open", signOpen(sendA, 7))!;
    expect(signedFor(sendA, asOpen)).toBe(true);
    expect(signedFor(sendA, { ...asClick, kind: "open" })).toBe(false);
  });

  it("is refused truncated, padded, re-spelled or with foreign characters", () => {
    const token = signClick(sendA, 99_999, 5);
    for (const bad of [
      token.slice(0, -1),
      token.slice(0, -4),
      `${token}A`,
      `${token}=`,
      token.replace(/[A-Za-z]$/, (c) => (c === "A" ? "B" : "A")),
      `${token.slice(0, 5)}+${token.slice(6)}`,
      `${token.slice(0, 5)}/${token.slice(6)}`,
      "",
      "a".repeat(200),
    ]) {
      const claim = readToken("click", bad);
      expect(claim === undefined || !signedFor(sendA, claim), bad).toBe(true);
    }
  });

  it("is refused when a varint has an empty high group (two spellings of one number)", () => {
    const mac = Buffer.alloc(10);
    const padded = Buffer.concat([Buffer.from([0x85, 0x00, 0x03]), mac]).toString("base64url");
    expect(readToken("click", padded)).toBeUndefined();
  });
});

describe("a send's key", () => {
  it("signs exactly as HMAC-SHA256 with the send's derived key does", async () => {
    const { createHmac } = await import("node:crypto");
    const sendId = "0b7e5a2c-1111-4a8b-9c3d-0123456789ab";
    const own = createHmac("sha256", key)
      .update(Buffer.from(sendId.replace(/-/g, ""), "hex"))
      .digest();
    const token = signClick(sendA, 300, 2);
    const bytes = Buffer.from(token, "base64url");
    const payload = bytes.subarray(0, -10);
    const expected = createHmac("sha256", own)
      .update(Buffer.of(0x63))
      .update(payload)
      .digest()
      .subarray(0, 10);
    expect(bytes.subarray(-10)).toEqual(expected);
  });
});
