import { createPublicKey, type KeyObject, verify } from "node:crypto";
import {
  arr,
  bracketed,
  complaintBounce,
  failureBounce,
  obj,
  type ProviderEvent,
  providerRecipient,
  str,
} from "./event.js";

/** A signed call older (or newer) than this is stale. */
export const sendgridMaxSkewSeconds = 5 * 60;

/** WEBHOOK_SENDGRID_PUBLIC_KEY: the base64 DER (SPKI) key SendGrid shows for the signed event webhook. */
export function sendgridPublicKey(base64: string): KeyObject {
  const der = Buffer.from(base64.replace(/-----[^-]+-----|\s/g, ""), "base64");
  return createPublicKey({ key: der, format: "der", type: "spki" });
}

/** ECDSA (P-256, SHA-256, DER signature) over the timestamp header followed by the raw body. */
export function verifySendgrid(
  key: KeyObject,
  rawBody: Buffer,
  signature: string | undefined,
  timestamp: string | undefined,
  nowSeconds: number,
): { ok: true } | { ok: false; why: string } {
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, why: "unsigned" };
  let good = false;
  try {
    good = verify(
      "sha256",
      Buffer.concat([Buffer.from(timestamp, "utf8"), rawBody]),
      { key, dsaEncoding: "der" },
      Buffer.from(signature, "base64"),
    );
  } catch {
    good = false;
  }
  if (!good) return { ok: false, why: "bad signature" };
  if (Math.abs(nowSeconds - Number(timestamp)) > sendgridMaxSkewSeconds) return { ok: false, why: "stale" };
  return { ok: true };
}

/**
 * SendGrid's event batch: `bounce` (type bounce or blocked) and `spamreport` events. `smtp-id` is
 * the Message-ID of the message we handed over (ours); `sg_message_id` starts with the id its SMTP
 * answer gave ("queued as ..."), followed by ".filter...". Dropped events are SendGrid's own
 * suppression list answering, not a new report, and are ignored like deliveries and opens.
 */
export function sendgridEvents(payload: unknown): ProviderEvent[] {
  return arr(payload).flatMap((entry): ProviderEvent[] => {
    const e = obj(entry);
    const kind = str(e.event);
    const address = str(e.email);
    const id = str(e.sg_event_id);
    if (!address || !id) return [];
    const messageId = bracketed(str(e["smtp-id"]));
    const sgId = str(e.sg_message_id);
    const providerMessageIds = sgId ? [...new Set([sgId, sgId.split(".filter")[0] ?? sgId])] : [];
    const common = {
      provider: "sendgrid" as const,
      providerMessageIds,
      eventId: id,
      ...(messageId ? { messageId } : {}),
    };
    if (kind === "spamreport") return [{ ...common, bounce: complaintBounce(address) }];
    if (kind !== "bounce") return [];
    const recipient = providerRecipient({
      address,
      status: str(e.status),
      diagnostic: str(e.reason),
      // Bounce and blocked events are final answers; "blocked" words classify as soft anyway.
      temporary: false,
    });
    return [{ ...common, bounce: failureBounce(recipient, messageId) }];
  });
}
