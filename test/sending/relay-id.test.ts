import { describe, expect, it } from "vitest";
import { relayMessageId } from "../../src/sending/relay-id.js";

describe("the relay's message id in a 250 answer", () => {
  it.each([
    ["250 2.0.0 Ok: queued as 4BxY3c2Kz9z1", "4BxY3c2Kz9z1"],
    [
      "250 Ok 0100018c1a2b3c4d-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000",
      "0100018c1a2b3c4d-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000",
    ],
    ["250 OK id=1r2s3t-0004Xy-Ab", "1r2s3t-0004Xy-Ab"],
    ["250 Ok: queued as <a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d>", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"],
    ["250 2.0.0 OK 1700000000 x12si1234567qkb.123 - gsmtp", "x12si1234567qkb.123"],
  ])("is found in %j", (answer, id) => {
    expect(relayMessageId(answer)).toBe(id);
  });

  it.each(["250 OK: message queued", "250 2.0.0 Ok", "250 Great success", ""])(
    "is absent from %j, and nothing is made up",
    (answer) => {
      expect(relayMessageId(answer)).toBeUndefined();
    },
  );
});
