import type { TrackingClass, TrackingKind } from "../db/schema.js";
import agents from "./data/agents.json" with { type: "json" };
import proxyRanges from "./data/proxy-ranges.json" with { type: "json" };
import { namedRanges } from "./ip-ranges.js";

/**
 * People or machines: the rules that class every tracking request `human`, `scanner`,
 * `privacy-proxy` or `unknown`, each verdict naming the rule that decided it. Pure functions over
 * the request's facts; the agent patterns and proxy address ranges are data (./data/*.json, with
 * the date they were taken).
 */

export interface TrackingRequest {
  kind: TrackingKind;
  method: string;
  ip: string | null;
  userAgent: string | null;
  at: Date;
  linkNo: number | null;
  canary: boolean;
  deliveredAt: Date | null;
}

export interface Verdict {
  class: TrackingClass;
  rule: string;
}

/** A stored request of one delivery, as classifyDelivery needs it. */
export type DeliveryEvent = TrackingRequest & { id: number };

/** Clicks this close to a canary click are the same machine's burst. */
export const CANARY_BURST_MS = 10_000;
/** Clicks on this many different links within BURST_WINDOW_MS are a machine following every link. */
export const BURST_WINDOW_MS = 10_000;
export const BURST_LINKS = 3;
/**
 * Near delivery, two different links within BURST_WINDOW_MS are already a machine: a person has not
 * yet opened the message, let alone read two stories.
 */
export const DELIVERY_WINDOW_MS = 60_000;
export const DELIVERY_BURST_LINKS = 2;

const flags = "i";
const scannerAgents = agents.scanners.map((s) => ({ name: s.name, pattern: new RegExp(s.pattern, flags) }));
const proxyAgents = agents.proxies.map((p) => ({ name: p.name, pattern: new RegExp(p.pattern, flags) }));
const mailClient = new RegExp(agents.mailClients.pattern, flags);
const browser = new RegExp(agents.browsers.pattern, flags);
const proxyNetworks = namedRanges(proxyRanges.lists);

/** The name of the proxy list that holds the address (e.g. "apple"), or null. */
export function proxyRangeOf(ip: string | null): string | null {
  return proxyNetworks.nameOf(ip);
}

/** The verdict one request earns by itself (HEAD, known agents, proxy ranges, the canary). */
export function classifyRequest(request: TrackingRequest): Verdict {
  const isOpen = request.kind === "open";
  // The canary is a link no person can see: whatever follows it is a machine.
  if (request.kind === "click" && request.canary) return { class: "scanner", rule: "canary" };
  // Browsers follow a link with GET; scanners check it exists with HEAD (or OPTIONS) first.
  const method = request.method.toUpperCase();
  if (method === "HEAD") return { class: "scanner", rule: "head-request" };
  if (method !== "GET") return { class: "scanner", rule: "non-get-request" };
  const agent = request.userAgent?.trim() ?? "";
  const scanner = agent === "" ? undefined : scannerAgents.find((s) => s.pattern.test(agent));
  if (scanner) return { class: "scanner", rule: `scanner-agent:${scanner.name}` };
  // A proxy fetching an image is the reader's mail provider, not the reader; a proxy "clicking" is
  // the provider checking the link.
  const proxy = agent === "" ? undefined : proxyAgents.find((p) => p.pattern.test(agent));
  if (proxy) return { class: isOpen ? "privacy-proxy" : "scanner", rule: `proxy-agent:${proxy.name}` };
  const range = proxyRangeOf(request.ip);
  if (range !== null) return { class: isOpen ? "privacy-proxy" : "scanner", rule: `proxy-range:${range}` };
  if (agent === "") return { class: "unknown", rule: "missing-agent" };
  // A mail program showing images is the reader opening the message; the same program fetching a
  // link is a preview (a person's click opens their browser, with the browser's agent).
  if (mailClient.test(agent)) {
    return isOpen
      ? { class: "human", rule: "mail-client-open" }
      : { class: "scanner", rule: "mail-client-click" };
  }
  if (browser.test(agent)) return { class: "human", rule: isOpen ? "browser-open" : "browser-click" };
  return { class: "unknown", rule: "unrecognised-agent" };
}

/**
 * The final verdicts of one delivery's requests: each request's own verdict, then the rules that need
 * the delivery's other requests (a burst after the canary, many links within seconds). Only requests
 * not already classed scanner change, so the stored rule is always the one that decided.
 */
export function classifyDelivery(events: readonly DeliveryEvent[]): Map<number, Verdict> {
  const verdicts = new Map<number, Verdict>();
  for (const event of events) verdicts.set(event.id, classifyRequest(event));
  const promote = (event: DeliveryEvent, rule: string) => {
    const current = verdicts.get(event.id);
    if (current?.class === "scanner" || current?.class === "privacy-proxy") return;
    verdicts.set(event.id, { class: "scanner", rule });
  };

  const clicks = events.filter((e) => e.kind === "click").sort((a, b) => a.at.getTime() - b.at.getTime());
  const canaries = clicks.filter((e) => e.canary);
  // Whatever followed the canary also followed the links near it: those clicks are its burst. The
  // pixel fetched from the canary's own address in that burst is the same machine.
  for (const canary of canaries) {
    const t = canary.at.getTime();
    for (const event of events) {
      if (event.id === canary.id || Math.abs(event.at.getTime() - t) > CANARY_BURST_MS) continue;
      if (event.kind === "click" || (event.ip !== null && event.ip === canary.ip))
        promote(event, "canary-burst");
    }
  }

  // Many different links within seconds of each other: a machine walking the message. The window
  // slides over the clicks in time order; every click inside a window that qualifies is marked.
  const links = clicks.filter((e) => !e.canary && e.linkNo !== null);
  let end = 0;
  for (let start = 0; start < links.length; start++) {
    const first = links[start];
    if (first === undefined) break;
    const from = first.at.getTime();
    if (end < start) end = start;
    while (
      end + 1 < links.length &&
      (links[end + 1]?.at.getTime() ?? Number.POSITIVE_INFINITY) - from <= BURST_WINDOW_MS
    )
      end++;
    const window = links.slice(start, end + 1);
    const distinct = new Set(window.map((e) => e.linkNo)).size;
    const delivered = first.deliveredAt?.getTime();
    const nearDelivery = delivered !== undefined && from - delivered <= DELIVERY_WINDOW_MS;
    if (distinct >= BURST_LINKS) for (const e of window) promote(e, "multi-link-burst");
    else if (nearDelivery && distinct >= DELIVERY_BURST_LINKS)
      for (const e of window) promote(e, "delivery-burst");
  }
  return verdicts;
}
