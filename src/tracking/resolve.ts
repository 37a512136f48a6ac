import { sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { readToken, type SendKey, sendKey, signedFor, type TokenKind, trackingKey } from "./token.js";

/**
 * From a `/r/` or `/o/` token to the send, delivery and (for a click) the stored URL. The redirect
 * must not wait for the database once warm, so two small caches sit in front of it: the links of
 * recently clicked sends (a send's links never change) and what recently seen deliveries are (their
 * send, reader and delivery time). A token whose send is in memory is checked against that send's
 * key and answered from memory, even while the database is slow or down; a cold one costs one query
 * (the delivery with its send's links), after which its send is warm for every other reader.
 */
export interface ResolvedToken {
  sendId: string;
  deliveryId: number;
  /** The link followed; null for an open. */
  linkNo: number | null;
  /** Where a click goes: only ever a URL stored for that link of that send. */
  url: string | null;
  canary: boolean;
}

/** What the event records beside the request: whose delivery it is and when it was delivered. */
export interface DeliveryFacts {
  sendId: string;
  subscriberId: string | null;
  deliveredAt: Date | null;
  /** False when the reader turned tracking off: their requests are answered, never recorded. */
  tracking: boolean;
}

export interface TrackingLinks {
  resolve(kind: TokenKind, token: string): Promise<ResolvedToken | undefined>;
  delivery(deliveryId: number): Promise<DeliveryFacts | undefined>;
}

interface WarmSend {
  key: SendKey;
  links: Map<number, { url: string; canary: boolean }>;
}

interface CachedDelivery {
  facts: DeliveryFacts;
  until: number;
}

export interface TrackingCacheSizes {
  /** Sends whose links are kept: the last few issues are where nearly all clicks go. */
  sends?: number;
  deliveries?: number;
  /** How long a delivery's facts are trusted (a reader's opt-out shows after at most this). */
  deliveryMs?: number;
}

export function trackingLinks(db: Db, secret: string, sizes: TrackingCacheSizes = {}): TrackingLinks {
  const key = trackingKey(secret);
  const maxSends = sizes.sends ?? 16;
  const maxDeliveries = sizes.deliveries ?? 20_000;
  const deliveryMs = sizes.deliveryMs ?? 60_000;
  const sends = new Map<string, WarmSend>();
  const deliveries = new Map<number, CachedDelivery>();

  function remember<K, V>(map: Map<K, V>, k: K, v: V, max: number) {
    map.delete(k);
    map.set(k, v);
    if (map.size > max) map.delete(map.keys().next().value as K);
  }

  function cachedFacts(deliveryId: number): DeliveryFacts | undefined {
    const hit = deliveries.get(deliveryId);
    if (!hit) return undefined;
    if (hit.until < Date.now()) {
      deliveries.delete(deliveryId);
      return undefined;
    }
    return hit.facts;
  }

  function keepFacts(deliveryId: number, facts: DeliveryFacts) {
    // Not yet marked sent (its outcome is still being written): look again next time.
    if (facts.deliveredAt)
      remember(deliveries, deliveryId, { facts, until: Date.now() + deliveryMs }, maxDeliveries);
  }

  function answer(sendId: string, send: WarmSend, deliveryId: number, linkNo: number | null) {
    if (linkNo === null) return { sendId, deliveryId, linkNo, url: null, canary: false };
    const link = send.links.get(linkNo);
    return link ? { sendId, deliveryId, linkNo, url: link.url, canary: link.canary } : undefined;
  }

  return {
    async resolve(kind, token) {
      const claim = readToken(kind, token);
      if (!claim) return undefined;
      // Warm: the delivery's own send first, then every send in memory (a MAC check each).
      const known = cachedFacts(claim.deliveryId)?.sendId;
      const firstTry = known ? sends.get(known) : undefined;
      if (known && firstTry && signedFor(firstTry.key, claim))
        return answer(known, firstTry, claim.deliveryId, claim.linkNo);
      for (const [sendId, send] of sends)
        if (sendId !== known && signedFor(send.key, claim)) {
          remember(sends, sendId, send, maxSends);
          return answer(sendId, send, claim.deliveryId, claim.linkNo);
        }
      const [row] = await query<{
        send_id: string;
        subscriber_id: string | null;
        sent_at: string | Date | null;
        tracking: boolean;
        links: [number, string, boolean][] | null;
      }>(
        db,
        sql`select d.send_id, d.subscriber_id, d.sent_at, coalesce(sub.tracking, true) as tracking,
              (select json_agg(json_build_array(l.link_no, l.url, l.canary))
                 from send_links l where l.send_id = d.send_id) as links
            from deliveries d left join subscribers sub on sub.id = d.subscriber_id
            where d.id = ${claim.deliveryId}`,
      );
      if (!row) return undefined;
      const send: WarmSend = {
        key: sendKey(key, row.send_id),
        links: new Map((row.links ?? []).map(([no, url, canary]) => [no, { url, canary }])),
      };
      if (!signedFor(send.key, claim)) return undefined;
      remember(sends, row.send_id, send, maxSends);
      keepFacts(claim.deliveryId, factsOf(row));
      return answer(row.send_id, send, claim.deliveryId, claim.linkNo);
    },

    async delivery(deliveryId) {
      const hit = cachedFacts(deliveryId);
      if (hit) return hit;
      const [row] = await query<{
        send_id: string;
        subscriber_id: string | null;
        sent_at: string | Date | null;
        tracking: boolean;
      }>(
        db,
        sql`select d.send_id, d.subscriber_id, d.sent_at, coalesce(sub.tracking, true) as tracking
            from deliveries d left join subscribers sub on sub.id = d.subscriber_id
            where d.id = ${deliveryId}`,
      );
      if (!row) return undefined;
      const facts = factsOf(row);
      keepFacts(deliveryId, facts);
      return facts;
    },
  };
}

function factsOf(row: {
  send_id: string;
  subscriber_id: string | null;
  sent_at: string | Date | null;
  tracking: boolean;
}): DeliveryFacts {
  return {
    sendId: row.send_id,
    subscriberId: row.subscriber_id,
    deliveredAt: row.sent_at ? new Date(row.sent_at) : null,
    tracking: row.tracking,
  };
}
