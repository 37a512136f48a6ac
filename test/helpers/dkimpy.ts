import { spawn } from "node:child_process";

/**
 * An independent DKIM verifier: dkimpy (Debian's python3-dkim, which .ci/run installs), fed the
 * key records from `records` instead of DNS. One Python process checks a whole batch of messages.
 * The result is, per message, one verdict per DKIM-Signature field in the order they appear.
 */
export const dkimpyPython = "/usr/bin/python3";

const script = `
import base64, json, sys
import dkim
request = json.load(sys.stdin)
records = request["records"]
def dns(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    record = records.get(name.rstrip("."))
    return record.encode() if record is not None else None
out = []
for item in request["messages"]:
    message = base64.b64decode(item["raw"])
    verdicts = []
    for index in range(item["signatures"]):
        try:
            verdicts.append(bool(dkim.DKIM(message).verify(idx=index, dnsfunc=dns)))
        except Exception as error:
            verdicts.append(repr(error))
    out.append(verdicts)
json.dump(out, sys.stdout)
`;

/** `true` for a signature that verifies, else false or the verifier's error. */
export type Verdict = boolean | string;

export async function dkimpyVerify(
  messages: Buffer[],
  records: Record<string, string>,
): Promise<Verdict[][]> {
  const request = JSON.stringify({
    records,
    messages: messages.map((raw) => ({
      raw: raw.toString("base64"),
      signatures: signatureFields(raw).length,
    })),
  });
  const child = spawn(dkimpyPython, ["-c", script], { stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => err.push(c));
  child.stdin.end(request);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  if (code !== 0) throw new Error(`dkimpy failed (exit ${code}): ${Buffer.concat(err).toString()}`);
  return JSON.parse(Buffer.concat(out).toString()) as Verdict[][];
}

/** The DKIM-Signature fields of the header block, unfolded. */
export function signatureFields(raw: Buffer): string[] {
  const text = raw.toString("latin1");
  const head = text.slice(0, text.indexOf("\r\n\r\n") + 2).replace(/\r\n(?=[ \t])/g, "");
  return head.split("\r\n").filter((line) => /^dkim-signature:/i.test(line));
}

/** The tags of a DKIM-Signature field (values without blanks). */
export function signatureTags(field: string): Map<string, string> {
  const value = field.slice(field.indexOf(":") + 1);
  return new Map(
    value
      .split(";")
      .filter((tag) => tag.includes("="))
      .map((tag) => {
        const at = tag.indexOf("=");
        return [tag.slice(0, at).trim(), tag.slice(at + 1).replace(/[ \t]+/g, "")] as [string, string];
      }),
  );
}

/** The TXT record of a public key (RFC 6376 §3.6.1; RFC 8463 §4: Ed25519's p= is the raw 32 bytes). */
export function keyRecord(publicKey: import("node:crypto").KeyObject): string {
  if (publicKey.asymmetricKeyType === "ed25519") {
    const spki = publicKey.export({ type: "spki", format: "der" });
    return `v=DKIM1; k=ed25519; p=${spki.subarray(spki.length - 32).toString("base64")}`;
  }
  return `v=DKIM1; k=rsa; p=${publicKey.export({ type: "spki", format: "der" }).toString("base64")}`;
}
