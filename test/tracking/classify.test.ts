import { describe, expect, it } from "vitest";
import {
  classifyDelivery,
  classifyRequest,
  type DeliveryEvent,
  proxyRangeOf,
  type TrackingRequest,
} from "../../src/tracking/classify.js";

const delivered = new Date("2026-12-01T08:00:00Z");
const seconds = (n: number) => new Date(delivered.getTime() + n * 1000);
const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const iphone =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const chrome =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const outlook = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";

function request(over: Partial<TrackingRequest>): TrackingRequest {
  return {
    kind: "click",
    method: "GET",
    ip: "198.51.100.7",
    userAgent: firefox,
    at: seconds(3600),
    linkNo: 1,
    canary: false,
    deliveredAt: delivered,
    ...over,
  };
}

const single: [string, Partial<TrackingRequest>, string, string][] = [
  ["a person's GET click from a desktop browser is human", {}, "human", "browser-click"],
  ["a person's GET click from a phone's browser is human", { userAgent: iphone }, "human", "browser-click"],
  [
    "a click on the canary is a scanner, whatever agent it shows",
    { canary: true, linkNo: 0 },
    "scanner",
    "canary",
  ],
  ["a HEAD request with a browser's agent is a scanner", { method: "HEAD" }, "scanner", "head-request"],
  ["a lower-case head method is still a HEAD", { method: "head" }, "scanner", "head-request"],
  ["an OPTIONS request is a scanner", { method: "OPTIONS" }, "scanner", "non-get-request"],
  [
    "a HEAD on the pixel is a scanner too",
    { kind: "open", method: "HEAD", linkNo: null },
    "scanner",
    "head-request",
  ],
  [
    "Microsoft Safe Links' fetch is a scanner",
    { userAgent: "Mozilla/5.0 (compatible; safelinks)" },
    "scanner",
    "scanner-agent:microsoft",
  ],
  [
    "Office's existence discovery is a scanner",
    { userAgent: "Microsoft Office Existence Discovery" },
    "scanner",
    "scanner-agent:microsoft",
  ],
  [
    "Bing's link preview is a scanner",
    { userAgent: "Mozilla/5.0 (Windows NT 10.0) BingPreview/1.0b" },
    "scanner",
    "scanner-agent:microsoft",
  ],
  [
    "Mimecast's URL protection is a scanner",
    { userAgent: "Mimecast URL Protect" },
    "scanner",
    "scanner-agent:mimecast",
  ],
  [
    "Proofpoint's URL Defense is a scanner",
    { userAgent: "Proofpoint URL Defense urldefense/2" },
    "scanner",
    "scanner-agent:proofpoint",
  ],
  [
    "Barracuda's link protection is a scanner",
    { userAgent: "Barracuda Sentinel (EE)" },
    "scanner",
    "scanner-agent:barracuda",
  ],
  ["Cisco IronPort is a scanner", { userAgent: "Cisco-IronPort-WSA" }, "scanner", "scanner-agent:cisco"],
  [
    "Symantec MessageLabs is a scanner",
    { userAgent: "MessageLabs URL scanner" },
    "scanner",
    "scanner-agent:symantec",
  ],
  ["Trend Micro is a scanner", { userAgent: "TrendMicro InterScan" }, "scanner", "scanner-agent:trendmicro"],
  ["Sophos is a scanner", { userAgent: "Sophos Email Security" }, "scanner", "scanner-agent:sophos"],
  ["FireEye is a scanner", { userAgent: "FireEye ETP" }, "scanner", "scanner-agent:trellix"],
  ["Forcepoint is a scanner", { userAgent: "Forcepoint Websense" }, "scanner", "scanner-agent:forcepoint"],
  ["Zscaler is a scanner", { userAgent: "Zscaler/1.0" }, "scanner", "scanner-agent:zscaler"],
  [
    "Google's safety check is a scanner",
    { userAgent: "Google-Safety" },
    "scanner",
    "scanner-agent:google-safety",
  ],
  [
    "a chat app unfurling a pasted link is a machine",
    { userAgent: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" },
    "scanner",
    "scanner-agent:link-preview",
  ],
  [
    "headless Chrome is a scanner",
    { userAgent: chrome.replace("Chrome/", "HeadlessChrome/") },
    "scanner",
    "scanner-agent:headless",
  ],
  ["curl is a scanner", { userAgent: "curl/8.5.0" }, "scanner", "scanner-agent:http-library"],
  ["wget is a scanner", { userAgent: "Wget/1.21.4" }, "scanner", "scanner-agent:http-library"],
  [
    "python-requests is a scanner",
    { userAgent: "python-requests/2.32.3" },
    "scanner",
    "scanner-agent:http-library",
  ],
  [
    "Go's HTTP client is a scanner",
    { userAgent: "Go-http-client/2.0" },
    "scanner",
    "scanner-agent:http-library",
  ],
  [
    "a self-declared bot is a scanner",
    { userAgent: "Mozilla/5.0 (compatible; ExampleBot/2.1; +https://example.net)" },
    "scanner",
    "scanner-agent:bot",
  ],
  [
    "Gmail's image proxy loading the pixel is a privacy proxy",
    {
      kind: "open",
      linkNo: null,
      userAgent: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    },
    "privacy-proxy",
    "proxy-agent:google",
  ],
  [
    "Yahoo's mail proxy loading the pixel is a privacy proxy",
    {
      kind: "open",
      linkNo: null,
      userAgent: "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    },
    "privacy-proxy",
    "proxy-agent:yahoo",
  ],
  [
    "Apple Mail Privacy Protection's bare agent from Apple's network is a privacy proxy",
    { kind: "open", linkNo: null, userAgent: "Mozilla/5.0", ip: "17.58.101.4" },
    "privacy-proxy",
    "proxy-agent:apple",
  ],
  [
    "a pixel load from Apple's network with a browser's agent is a privacy proxy",
    { kind: "open", linkNo: null, ip: "17.2.3.4", userAgent: iphone },
    "privacy-proxy",
    "proxy-range:apple",
  ],
  [
    "an IPv4-mapped address in Apple's network still matches",
    { kind: "open", linkNo: null, ip: "::ffff:17.2.3.4" },
    "privacy-proxy",
    "proxy-range:apple",
  ],
  [
    "a pixel load from Apple's IPv6 network is a privacy proxy",
    { kind: "open", linkNo: null, ip: "2620:149:a:b::1" },
    "privacy-proxy",
    "proxy-range:apple",
  ],
  [
    "a pixel load from Google's proxy network is a privacy proxy",
    { kind: "open", linkNo: null, ip: "66.249.84.17" },
    "privacy-proxy",
    "proxy-range:google",
  ],
  [
    "a click from Apple's proxy network is a scanner, not a reader",
    { ip: "17.58.101.4" },
    "scanner",
    "proxy-range:apple",
  ],
  [
    "a click with Gmail's image-proxy agent is a scanner",
    { userAgent: "GoogleImageProxy" },
    "scanner",
    "proxy-agent:google",
  ],
  [
    "a pixel load by a browser outside any proxy network is human-likely",
    { kind: "open", linkNo: null },
    "human",
    "browser-open",
  ],
  [
    "Outlook on the desktop showing images is the reader's open",
    { kind: "open", linkNo: null, userAgent: outlook },
    "human",
    "mail-client-open",
  ],
  [
    "Outlook itself fetching a link is a preview, not a click",
    { userAgent: outlook },
    "scanner",
    "mail-client-click",
  ],
  ["a click with no agent at all is unknown", { userAgent: null }, "unknown", "missing-agent"],
  ["a click with a blank agent is unknown", { userAgent: "   " }, "unknown", "missing-agent"],
  [
    "a click with an agent we do not recognise is unknown",
    { userAgent: "SomethingElse/1.0" },
    "unknown",
    "unrecognised-agent",
  ],
  [
    "a click from an address that is not an address is judged on its agent",
    { ip: "not-an-ip" },
    "human",
    "browser-click",
  ],
  ["a click from just outside Apple's network is a person", { ip: "18.0.0.1" }, "human", "browser-click"],
];

describe("classifyRequest: the verdict one request earns by itself", () => {
  it.each(single)("%s", (_sentence, over, cls, rule) => {
    expect(classifyRequest(request(over))).toEqual({ class: cls, rule });
  });
});

describe("proxyRangeOf", () => {
  it.each([
    ["17.0.0.0", "apple"],
    ["17.255.255.255", "apple"],
    ["16.255.255.255", null],
    ["2a01:b740::5", "apple"],
    ["2a00:1450:4001::2", "google"],
    ["2a00:1451::1", null],
    [null, null],
    ["", null],
    ["17.0.0.0/8", null],
  ])("%s is in %s's network", (ip, name) => {
    expect(proxyRangeOf(ip)).toBe(name);
  });
});

let nextId = 1;
function event(over: Partial<TrackingRequest>): DeliveryEvent {
  return { id: nextId++, ...request(over) };
}
const scannerAgentLikeBrowser = chrome;

interface GroupRow {
  sentence: string;
  events: DeliveryEvent[];
  /** The expected final verdict of each event, in order, as "class rule". */
  expected: string[];
}

const group: GroupRow[] = [
  {
    sentence: "a canary click marks the browser-looking clicks of its burst as scanner",
    events: [
      event({
        at: seconds(2),
        canary: true,
        linkNo: 0,
        userAgent: scannerAgentLikeBrowser,
        ip: "203.0.113.9",
      }),
      event({ at: seconds(3), linkNo: 1, userAgent: scannerAgentLikeBrowser, ip: "203.0.113.9" }),
      event({ at: seconds(4), linkNo: 2, userAgent: scannerAgentLikeBrowser, ip: "203.0.113.10" }),
    ],
    expected: ["scanner canary", "scanner canary-burst", "scanner canary-burst"],
  },
  {
    sentence: "a person's click hours after the canary burst stays human",
    events: [
      event({ at: seconds(2), canary: true, linkNo: 0, userAgent: scannerAgentLikeBrowser }),
      event({ at: seconds(3), linkNo: 1, userAgent: scannerAgentLikeBrowser }),
      event({ at: seconds(3 * 3600), linkNo: 1, userAgent: iphone }),
    ],
    expected: ["scanner canary", "scanner canary-burst", "human browser-click"],
  },
  {
    sentence: "a HEAD in the canary's burst keeps the rule that decided it first",
    events: [
      event({ at: seconds(2), canary: true, linkNo: 0 }),
      event({ at: seconds(2), linkNo: 1, method: "HEAD" }),
    ],
    expected: ["scanner canary", "scanner head-request"],
  },
  {
    sentence: "the pixel fetched from the canary's address in its burst is the same machine",
    events: [
      event({ at: seconds(1), canary: true, linkNo: 0, ip: "203.0.113.9" }),
      event({ at: seconds(1), kind: "open", linkNo: null, ip: "203.0.113.9" }),
      event({ at: seconds(5), kind: "open", linkNo: null, ip: "198.51.100.50" }),
    ],
    expected: ["scanner canary", "scanner canary-burst", "human browser-open"],
  },
  {
    sentence: "three different links within seconds, hours after delivery, are a machine walking the message",
    events: [
      event({ at: seconds(7200), linkNo: 1 }),
      event({ at: seconds(7201), linkNo: 2 }),
      event({ at: seconds(7203), linkNo: 3 }),
    ],
    expected: ["scanner multi-link-burst", "scanner multi-link-burst", "scanner multi-link-burst"],
  },
  {
    sentence: "two different links within seconds of delivery are a machine",
    events: [event({ at: seconds(4), linkNo: 1 }), event({ at: seconds(5), linkNo: 2 })],
    expected: ["scanner delivery-burst", "scanner delivery-burst"],
  },
  {
    sentence:
      "two different links within seconds, an hour after delivery, are a person who knew what they wanted",
    events: [event({ at: seconds(3600), linkNo: 1 }), event({ at: seconds(3605), linkNo: 2 })],
    expected: ["human browser-click", "human browser-click"],
  },
  {
    sentence: "a person clicking the same story twice in a second is still one person",
    events: [event({ at: seconds(40), linkNo: 1 }), event({ at: seconds(41), linkNo: 1 })],
    expected: ["human browser-click", "human browser-click"],
  },
  {
    sentence: "a person reading two stories minutes apart is human twice",
    events: [event({ at: seconds(600), linkNo: 1 }), event({ at: seconds(900), linkNo: 2 })],
    expected: ["human browser-click", "human browser-click"],
  },
  {
    sentence: "an open only from Apple's proxy stays privacy-proxy even beside a person's click",
    events: [
      event({ at: seconds(1), kind: "open", linkNo: null, ip: "17.1.1.1", userAgent: "Mozilla/5.0" }),
      event({ at: seconds(1800), linkNo: 2, userAgent: iphone }),
    ],
    expected: ["privacy-proxy proxy-agent:apple", "human browser-click"],
  },
  {
    sentence: "a proxy's open in the canary's burst stays privacy-proxy (the proxy is not the scanner)",
    events: [
      event({ at: seconds(1), canary: true, linkNo: 0, ip: "17.1.1.1" }),
      event({ at: seconds(1), kind: "open", linkNo: null, ip: "17.1.1.1", userAgent: "Mozilla/5.0" }),
    ],
    expected: ["scanner canary", "privacy-proxy proxy-agent:apple"],
  },
  {
    sentence: "a delivery with no canary and scattered clicks keeps every request's own verdict",
    events: [
      event({ at: seconds(30), linkNo: 1, userAgent: "curl/8.0" }),
      event({ at: seconds(5000), linkNo: 3, userAgent: "SomethingElse/1.0" }),
    ],
    expected: ["scanner scanner-agent:http-library", "unknown unrecognised-agent"],
  },
];

describe("classifyDelivery: the rules that need a delivery's other requests", () => {
  it.each(group)("$sentence", ({ events, expected }) => {
    const verdicts = classifyDelivery(events);
    expect(events.map((e) => `${verdicts.get(e.id)?.class} ${verdicts.get(e.id)?.rule}`)).toEqual(expected);
  });

  it("gives every request a verdict and no more", () => {
    const events = group.flatMap((row) => row.events).slice(0, 5);
    expect([...classifyDelivery(events).keys()].sort()).toEqual(events.map((e) => e.id).sort());
  });
});
