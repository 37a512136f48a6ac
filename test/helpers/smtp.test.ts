import { createTransport } from "nodemailer";
import { afterAll, describe, expect, it } from "vitest";
import { startSmtpCapture } from "./smtp.js";

describe("the test SMTP server", () => {
  it("records accepted messages and answers 5xx for the recipients it is told to refuse", async () => {
    const smtp = await startSmtpCapture({
      onRcpt: (address) =>
        address.startsWith("nobody@") ? { code: 550, message: "5.1.1 No such user" } : undefined,
    });
    afterAll(() => smtp.close());
    const transport = createTransport(smtp.url);
    await transport.sendMail({ from: "a@example.org", to: "b@example.org", subject: "hi", text: "hello" });
    await expect(
      transport.sendMail({ from: "a@example.org", to: "nobody@example.org", subject: "hi", text: "hello" }),
    ).rejects.toMatchObject({ responseCode: 550 });
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]?.to).toEqual(["b@example.org"]);
    expect(smtp.messages[0]?.raw.toString()).toContain("Subject: hi");
  });
});
