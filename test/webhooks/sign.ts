import { execFileSync } from "node:child_process";
import { createHmac, createSign, generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Test keys made in the test: an SNS-like signing certificate, an ECDSA pair for SendGrid. */

export interface SnsSigner {
  certFile: string;
  /** Signs an SNS message the way the SNS docs describe (fields in order, each "Name\nvalue\n"). */
  sign(fields: Record<string, string>, version?: "1" | "2"): Record<string, string>;
}

export function snsSigner(): SnsSigner {
  const dir = mkdtempSync(join(tmpdir(), "digest-sns-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "2",
      "-subj",
      "/CN=sns.amazonaws.com",
    ],
    { stdio: "ignore" },
  );
  const key = readFileSync(keyFile, "utf8");
  return {
    certFile,
    sign(fields, version = "1") {
      const names =
        fields.Type === "Notification"
          ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
          : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
      let text = "";
      for (const name of names) if (fields[name] !== undefined) text += `${name}\n${fields[name]}\n`;
      const signer = createSign(version === "1" ? "RSA-SHA1" : "RSA-SHA256");
      signer.update(text);
      return {
        SigningCertURL:
          "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
        ...fields,
        SignatureVersion: version,
        Signature: signer.sign(key, "base64"),
      };
    },
  };
}

/** An SNS notification carrying an SES event (the JSON as a string in `Message`). */
export function snsNotification(message: unknown, at = new Date()): Record<string, string> {
  return {
    Type: "Notification",
    MessageId: randomUUID(),
    TopicArn: "arn:aws:sns:eu-west-1:123456789012:ses-bounces",
    Message: JSON.stringify(message),
    Timestamp: at.toISOString(),
    UnsubscribeURL:
      "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:eu-west-1:123456789012:ses-bounces:x",
  };
}

export function mailgunSignature(
  key: string,
  at = Math.floor(Date.now() / 1000),
  token = randomBytes(25).toString("hex"),
) {
  return {
    timestamp: String(at),
    token,
    signature: createHmac("sha256", key).update(`${at}${token}`).digest("hex"),
  };
}

export interface SendgridSigner {
  /** WEBHOOK_SENDGRID_PUBLIC_KEY: base64 DER SPKI, as SendGrid's settings page shows it. */
  publicKey: string;
  headers(body: string, at?: number): Record<string, string>;
}

export function sendgridSigner(): SendgridSigner {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    publicKey: publicKey.export({ format: "der", type: "spki" }).toString("base64"),
    headers(body, at = Math.floor(Date.now() / 1000)) {
      const signature = sign("sha256", Buffer.from(`${at}${body}`), { key: privateKey, dsaEncoding: "der" });
      return {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": signature.toString("base64"),
        "X-Twilio-Email-Event-Webhook-Timestamp": String(at),
      };
    },
  };
}
