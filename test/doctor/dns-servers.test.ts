import { Resolver } from "node:dns/promises";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

/** DNS_SERVERS: comma-separated `ip[:port]` (IPv6 as `[ip]:port`), checked when the doctor starts. */
describe("DNS_SERVERS", () => {
  it("takes IPv4 and IPv6 addresses with or without a port, in the form node's resolver takes", () => {
    const { dnsServers } = loadConfig(["dnsServers"], {
      DNS_SERVERS: "9.9.9.9, 127.0.0.1:5353,[::1]:53,2001:db8::1,[2001:db8::2]",
    });
    expect(dnsServers).toEqual(["9.9.9.9", "127.0.0.1:5353", "[::1]:53", "2001:db8::1", "2001:db8::2"]);
    expect(() => new Resolver().setServers(dnsServers ?? [])).not.toThrow();
  });

  it("is the system resolver when unset", () => {
    expect(loadConfig(["dnsServers"], {}).dnsServers).toBeUndefined();
  });

  for (const bad of [
    "dns.quad9.net",
    "127.0.0.1:0",
    "127.0.0.1:70000",
    "[127.0.0.1]:53",
    "1.2.3",
    ",",
    "9.9.9.9;1.1.1.1",
  ])
    it(`refuses "${bad}", naming the setting and the form it takes`, () => {
      let error: unknown;
      try {
        loadConfig(["dnsServers"], { DNS_SERVERS: bad });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems[0]).toMatch(/^DNS_SERVERS /);
    });
});
