import { BlockList, isIP } from "node:net";

/**
 * Named address ranges, matched with node's BlockList (IPv4 and IPv6 CIDR, no parsing of our own).
 * Built once from data; `nameOf` is then a pure look-up.
 */
export interface NamedRanges {
  /** The name of the first list that holds the address, or null (also for anything not an address). */
  nameOf(ip: string | null): string | null;
}

export function namedRanges(lists: readonly { name: string; ranges: readonly string[] }[]): NamedRanges {
  const built = lists.map((list) => {
    const block = new BlockList();
    for (const range of list.ranges) {
      const [address = "", bits = ""] = range.split("/");
      const family = isIP(address);
      if (family === 0 || !/^\d{1,3}$/.test(bits)) throw new Error(`not a CIDR range: ${range}`);
      block.addSubnet(address, Number(bits), family === 6 ? "ipv6" : "ipv4");
    }
    return { name: list.name, block };
  });
  return {
    nameOf(ip) {
      const address = plainAddress(ip);
      if (address === null) return null;
      const type = isIP(address) === 6 ? "ipv6" : "ipv4";
      return built.find((list) => list.block.check(address, type))?.name ?? null;
    },
  };
}

/**
 * The address as BlockList wants it: an IPv4-mapped IPv6 address (what a dual-stack socket reports
 * for an IPv4 peer) becomes its IPv4 form, so 17.0.0.0/8 matches `::ffff:17.1.2.3`.
 */
function plainAddress(ip: string | null): string | null {
  if (ip === null) return null;
  const trimmed = ip.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(trimmed);
  const address = mapped?.[1] ?? trimmed;
  return isIP(address) === 0 ? null : address;
}
