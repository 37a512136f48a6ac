import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.js";
import { tokenPageHeaders } from "../../src/http/public.js";
import { forwardedClient, limitKey, memoryRateLimiter, proxyMatcher } from "../../src/limits.js";
import { startSend } from "../../src/sending/plan.js";
import { forgetReaderJobs, mailRequest, queueNotify } from "../../src/subscribers/notify.js";
import { signSubscriberToken } from "../../src/subscribers/tokens.js";
import { bearer, secret, startService } from "../http/harness.js";
import { exampleIssue } from "../sending/harness.js";

const service = await startService({ sending: true, worker: false });
const { app, database, deps } = service;

async function reader(email: string, status = "active"): Promise<string> {
  const [row] = await database.query<{
    id: string;
  }>(sql`insert into subscribers (email, status, consent_source)
    values (${email}, ${status}, 'admin') returning id`);
  return row!.id;
}

describe("pages that carry a token", () => {
  it("answer with no-store, noindex and frame-ancestors 'none', errors included", async () => {
    const id = await reader("tokens@example.org");
    const paths = [
      `/manage/${signSubscriberToken(secret, "manage", id)}`,
      `/unsubscribe/${signSubscriberToken(secret, "unsubscribe", id)}`,
      `/confirm/${signSubscriberToken(secret, "confirm", id)}`,
      "/manage/aaaaaaaaaaaaaaaa",
    ];
    for (const path of paths) {
      const res = await app.request(path);
      expect(res.status, path).toBeLessThan(500);
      expect(res.headers.get("cache-control"), path).toBe("no-store");
      expect(res.headers.get("x-robots-tag"), path).toBe("noindex");
      expect(res.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
    }
    expect(tokenPageHeaders["Cache-Control"]).toBe("no-store");
  });

  it("are rate-limited per client: a crawler of manage links gets 429", async () => {
    const limited = await createApp({
      ...deps,
      pageLimiter: memoryRateLimiter({ limit: 3, windowSeconds: 3600 }),
    });
    const id = await reader("crawled@example.org");
    const path = `/manage/${signSubscriberToken(secret, "manage", id)}`;
    const answers: number[] = [];
    for (let i = 0; i < 5; i++) answers.push((await limited.request(path)).status);
    expect(answers).toEqual([200, 200, 200, 429, 429]);
    const refused = await limited.request(path);
    expect(refused.headers.get("cache-control")).toBe("no-store");
  });
});

describe("a stranger's subscribe", () => {
  it("never changes an unsubscribed, bounced or complained reader, with the same 202", async () => {
    for (const status of ["unsubscribed", "bounced", "complained"]) {
      await reader(`${status}-stays@example.org`, status);
      const res = await app.request("/subscribe", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: `${status}-stays@example.org`, name: "Someone Else" }),
      });
      expect(res.status).toBe(202);
      const [row] = await database.query<{ status: string; name: string | null }>(
        sql`select status, name from subscribers where email = ${`${status}-stays@example.org`}`,
      );
      expect(row).toEqual({ status, name: null });
    }
  });
});

describe("erasure through the admin API", () => {
  it("also takes the reader's waiting mail jobs out of the queue", async () => {
    const withJobs = await createApp({ ...deps, forgetJobs: (id) => forgetReaderJobs(service.queue, id) });
    const id = await reader("queued-then-erased@example.org");
    await queueNotify(service.queue)([mailRequest("welcome", id, new Date())]);
    const named = async () =>
      (await service.queue.getJobs(["waiting"])).filter((j) => j.data.subscriberId === id);
    expect(await named()).toHaveLength(1);
    const res = await withJobs.request("/api/subscribers/queued-then-erased@example.org", {
      method: "DELETE",
      headers: bearer,
    });
    expect(await res.json()).toEqual({ erased: true });
    expect(await named()).toHaveLength(0);
  });
});

describe("/metrics", () => {
  it("answers loopback clients only when METRICS_TOKEN is unset", async () => {
    expect((await app.request("/metrics")).status).toBe(401);
    const local = await createApp({ ...deps, clientIp: () => "127.0.0.1" });
    const res = await local.request("/metrics");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("digest_subscribers");
    const mapped = await createApp({ ...deps, clientIp: () => "::1" });
    expect((await mapped.request("/metrics")).status).toBe(200);
  });

  it("needs the bearer token when METRICS_TOKEN is set, even from loopback", async () => {
    const token = "metrics-token-0123456789abcdef";
    const guarded = await createApp({ ...deps, clientIp: () => "127.0.0.1", metricsToken: token });
    expect((await guarded.request("/metrics")).status).toBe(401);
    expect((await guarded.request("/metrics", { headers: bearer })).status).toBe(401);
    const res = await guarded.request("/metrics", { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  });

  it("counts subscribers at most once per 15 s, however often it is scraped", async () => {
    const local = await createApp({ ...deps, clientIp: () => "127.0.0.1" });
    const active = async () =>
      Number(
        /digest_subscribers\{status="active"\} (\d+)/.exec(
          await (await local.request("/metrics")).text(),
        )?.[1],
      );
    const first = await active();
    await reader("counted-later@example.org");
    expect(await active()).toBe(first);
  });
});

describe("drafts and published issues", () => {
  it("keeps a draft out of the archive and feed (404), publishes it when its first real send starts, and freezes its text", async () => {
    const created = await app.request("/api/issues", {
      method: "POST",
      headers: { ...bearer, "Content-Type": "text/markdown" },
      body: exampleIssue,
    });
    const { id, slug } = (await created.json()) as { id: string; slug: string };
    const listed = async () => (await (await app.request("/")).text()).includes(`/archive/${slug}`);
    const inFeed = async () => (await (await app.request("/feed.xml")).text()).includes(`/archive/${slug}`);

    expect((await app.request(`/archive/${slug}`)).status).toBe(404);
    expect(await listed()).toBe(false);
    await startSend(deps.sending!, { issueId: id, test: ["staff@example.org"] });
    expect((await app.request(`/archive/${slug}`)).status).toBe(404);
    expect(await inFeed()).toBe(false);
    // A draft may still change.
    const edited = exampleIssue.replace("oil spill", "oil slick");
    const saved = await app.request("/api/issues", {
      method: "POST",
      headers: { ...bearer, "Content-Type": "text/markdown" },
      body: edited,
    });
    expect(saved.status).toBe(200);

    await startSend(deps.sending!, { issueId: id });
    expect((await app.request(`/archive/${slug}`)).status).toBe(200);
    expect(await listed()).toBe(true);
    expect(await inFeed()).toBe(true);

    const same = await app.request("/api/issues", {
      method: "POST",
      headers: { ...bearer, "Content-Type": "text/markdown" },
      body: edited,
    });
    expect(same.status).toBe(200);
    const changed = await app.request("/api/issues", {
      method: "POST",
      headers: { ...bearer, "Content-Type": "text/markdown" },
      body: exampleIssue,
    });
    expect(changed.status).toBe(409);
    const today = new Date().toISOString().slice(0, 10);
    expect(((await changed.json()) as { error: string }).error).toMatch(
      new RegExp(`Vol 2\\.6 was published on ${today}.*frozen`),
    );
  });
});

describe("the client address", () => {
  const trusted = proxyMatcher(["10.0.0.0/8", "::1"]);

  it("is the socket's, whatever X-Forwarded-For says, when the peer is not a trusted proxy", () => {
    expect(forwardedClient("198.51.100.7", "1.2.3.4", trusted)).toBe("198.51.100.7");
    expect(forwardedClient("198.51.100.7", "1.2.3.4", proxyMatcher([]))).toBe("198.51.100.7");
  });

  it("is the right-most untrusted hop when the peer is a trusted proxy", () => {
    expect(forwardedClient("10.0.0.2", "203.0.113.9", trusted)).toBe("203.0.113.9");
    // The client wrote the left-most hop itself: it proves nothing.
    expect(forwardedClient("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.5", trusted)).toBe("203.0.113.9");
    expect(forwardedClient("::ffff:10.0.0.2", "2001:db8::1", trusted)).toBe("2001:db8::1");
    expect(forwardedClient("10.0.0.2", "garbage, 10.0.0.5", trusted)).toBe("10.0.0.5");
    expect(forwardedClient("10.0.0.2", undefined, trusted)).toBe("10.0.0.2");
  });

  it("is counted per /64 for IPv6, as is for IPv4", () => {
    expect(limitKey("2001:db8:1:2:aaaa::1")).toBe(limitKey("2001:db8:1:2:ffff:1:2:3"));
    expect(limitKey("2001:db8:1:2::1")).not.toBe(limitKey("2001:db8:1:3::1"));
    expect(limitKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(limitKey(undefined)).toBe("unknown");
  });

  it("refuses a TRUSTED_PROXIES entry that is no address or range", () => {
    expect(() => proxyMatcher(["10.0.0.0/33"])).toThrow(/TRUSTED_PROXIES/);
    expect(() => proxyMatcher(["proxy.internal"])).toThrow(/TRUSTED_PROXIES/);
  });
});
