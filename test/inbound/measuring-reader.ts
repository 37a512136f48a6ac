import type { MessageReader } from "../../src/inbound/read-pool.js";

/**
 * `inner`, noting in `lengths` how many bytes of each message were handed to it (what a server or
 * the mailbox reader kept of it). Closing it closes `inner` only when it `owns` it.
 */
export function measuringReader(inner: MessageReader, lengths: number[], owns = false): MessageReader {
  return {
    read: (raw, request) => {
      lengths.push(raw.length);
      return inner.read(raw, request);
    },
    close: owns ? () => inner.close() : async () => {},
  };
}
