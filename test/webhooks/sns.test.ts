import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isAmazonSnsUrl, snsKeySource, verifySnsMessage } from "../../src/bounces/providers/sns.js";
import { snsNotification, snsSigner } from "./sign.js";

/**
 * SNS signatures without SNS_CERT_FILE: the certificate is fetched from SigningCertURL (here from a
 * stand-in for Amazon's host, the only thing not real in this file) once, and only from an Amazon
 * SNS host over https.
 */
const signer = snsSigner();
const pem = readFileSync(signer.certFile, "utf8");

function countingFetch(answer = () => new Response(pem)) {
  const urls: string[] = [];
  const fetcher = (async (url: string | URL | Request) => {
    urls.push(String(url));
    return answer();
  }) as typeof fetch;
  return { urls, fetcher };
}

describe("SNS signing certificates", () => {
  it("are fetched once per URL and cached; SignatureVersion 1 and 2 both verify", async () => {
    const { urls, fetcher } = countingFetch();
    const keys = snsKeySource({ fetch: fetcher });
    for (const version of ["1", "2"] as const) {
      const verdict = await verifySnsMessage(signer.sign(snsNotification({ hello: version }), version), keys);
      expect(verdict.ok).toBe(true);
    }
    expect(urls).toHaveLength(1);
    expect(isAmazonSnsUrl(urls[0] ?? "")).toBe(true);
  });

  it("are never fetched from another host, over http, or with a port or credentials", async () => {
    const { urls, fetcher } = countingFetch();
    const keys = snsKeySource({ fetch: fetcher });
    for (const url of [
      "https://evil.example/cert.pem",
      "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
      "http://sns.us-east-1.amazonaws.com/cert.pem",
      "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
      "https://user@sns.us-east-1.amazonaws.com/cert.pem",
      "https://s3.amazonaws.com/sns.us-east-1.amazonaws.com/cert.pem",
    ]) {
      const message = { ...signer.sign(snsNotification({})), SigningCertURL: url };
      expect(await verifySnsMessage(message, keys)).toMatchObject({ ok: false });
    }
    expect(urls).toEqual([]);
    expect(isAmazonSnsUrl("https://sns.us-gov-west-1.amazonaws.com/x.pem")).toBe(true);
    expect(isAmazonSnsUrl("https://sns.cn-north-1.amazonaws.com.cn/x.pem")).toBe(true);
  });

  it("a failed fetch is refused and not cached: the next message tries again", async () => {
    let fail = true;
    const { urls, fetcher } = countingFetch(() =>
      fail ? new Response("no", { status: 503 }) : new Response(pem),
    );
    const keys = snsKeySource({ fetch: fetcher });
    const message = signer.sign(snsNotification({}));
    expect(await verifySnsMessage(message, keys)).toMatchObject({ ok: false });
    await new Promise((r) => setTimeout(r, 10));
    fail = false;
    expect(await verifySnsMessage(message, keys)).toMatchObject({ ok: true });
    expect(urls).toHaveLength(2);
  });
});
