import { createVerify, type KeyObject, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { obj, str } from "./event.js";

/**
 * Amazon SNS message signatures (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) over the
 * canonical string of the message's fields, checked against the certificate at SigningCertURL. The
 * URL must be https on an `sns.<region>.amazonaws.com` host: anyone can sign with a certificate of
 * their own, so the host is what makes a signature Amazon's.
 */
export interface SnsEnvelope {
  type: "Notification" | "SubscriptionConfirmation" | "UnsubscribeConfirmation";
  messageId: string;
  topicArn: string;
  message: string;
  timestamp: string;
  subscribeUrl?: string;
}

export type SnsVerdict = { ok: true; envelope: SnsEnvelope } | { ok: false; why: string };

/** Loads the public key of a signing certificate URL (already checked to be Amazon's). */
export type SnsKeySource = (certUrl: string) => Promise<KeyObject>;

/** Older than this, a message is stale (SNS retries a delivery for at most about an hour by default). */
export const snsMaxAgeMs = 24 * 60 * 60 * 1000;

const TYPES = new Set(["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]);

export function isAmazonSnsUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    url.protocol === "https:" &&
    url.port === "" &&
    url.username === "" &&
    /^sns\.[a-z]{2}(?:-[a-z]+)+-\d\.amazonaws\.com(?:\.cn)?$/.test(url.hostname)
  );
}

export async function verifySnsMessage(
  body: unknown,
  keys: SnsKeySource,
  now = Date.now(),
): Promise<SnsVerdict> {
  const m = obj(body);
  const type = str(m.Type);
  if (!TYPES.has(type)) return { ok: false, why: "not an SNS message" };
  const version = str(m.SignatureVersion);
  if (version !== "1" && version !== "2") return { ok: false, why: "unknown signature version" };
  const signature = str(m.Signature);
  if (!signature) return { ok: false, why: "unsigned" };
  const certUrl = str(m.SigningCertURL);
  if (!isAmazonSnsUrl(certUrl)) return { ok: false, why: "signing certificate not on an Amazon SNS host" };
  const timestamp = str(m.Timestamp);
  const at = Date.parse(timestamp);
  if (!Number.isFinite(at) || now - at > snsMaxAgeMs || at - now > 5 * 60 * 1000)
    return { ok: false, why: "stale or future timestamp" };
  const fields =
    type === "Notification"
      ? ["Message", "MessageId", ...(m.Subject != null ? ["Subject"] : []), "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  if (fields.some((f) => typeof m[f] !== "string")) return { ok: false, why: "fields missing" };
  const canonical = fields.map((f) => `${f}\n${str(m[f])}\n`).join("");
  let key: KeyObject;
  try {
    key = await keys(certUrl);
  } catch (error) {
    return { ok: false, why: `signing certificate unavailable: ${(error as Error).message}` };
  }
  const verifier = createVerify(version === "1" ? "RSA-SHA1" : "RSA-SHA256");
  verifier.update(canonical, "utf8");
  let good = false;
  try {
    good = verifier.verify(key, signature, "base64");
  } catch {
    good = false;
  }
  if (!good) return { ok: false, why: "bad signature" };
  return {
    ok: true,
    envelope: {
      type: type as SnsEnvelope["type"],
      messageId: str(m.MessageId),
      topicArn: str(m.TopicArn),
      message: str(m.Message),
      timestamp,
      ...(typeof m.SubscribeURL === "string" ? { subscribeUrl: m.SubscribeURL } : {}),
    },
  };
}

/**
 * Where signing keys come from: SNS_CERT_FILE (tests, air-gapped installs) for every URL, else the
 * certificate at the URL, fetched once and cached (Amazon rotates them rarely; a bounded cache keeps
 * a flood of distinct URLs from growing memory).
 */
export function snsKeySource(options: { certFile?: string; fetch?: typeof fetch }): SnsKeySource {
  const cache = new Map<string, Promise<KeyObject>>();
  const load = async (url: string): Promise<KeyObject> => {
    if (options.certFile) return new X509Certificate(await readFile(options.certFile)).publicKey;
    const response = await (options.fetch ?? fetch)(url, {
      signal: AbortSignal.timeout(5000),
      redirect: "error",
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const pem = await response.text();
    if (pem.length > 20_000) throw new Error("certificate too large");
    return new X509Certificate(pem).publicKey;
  };
  return (url) => {
    const key = options.certFile ? "file" : url;
    let entry = cache.get(key);
    if (!entry) {
      if (cache.size >= 32) cache.clear();
      entry = load(url);
      // A failed load is not cached: the next message tries again.
      entry.catch(() => cache.delete(key));
      cache.set(key, entry);
    }
    return entry;
  };
}
