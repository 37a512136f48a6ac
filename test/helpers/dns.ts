import dns2 from "dns2";

const { Packet } = dns2;

/** Records a private DNS server answers with; names are matched without case, TXT split at 255 bytes. */
export interface Zone {
  txt?: Record<string, string[]>;
  mx?: Record<string, { exchange: string; priority: number }[]>;
}

export interface DnsServer {
  /** `127.0.0.1:<port>`, as DNS_SERVERS takes it. */
  address: string;
  /** Replace what the server answers (between cases of one test file). */
  zone: Zone;
  close(): Promise<void>;
}

/** A character-string holds at most 255 bytes (RFC 1035 §3.3): longer TXT values are split. */
function characterStrings(value: string): string[] {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(value.slice(i, i + 255));
  return parts.length > 0 ? parts : [""];
}

/** A UDP DNS server on 127.0.0.1 (free port) answering from `zone`, NXDOMAIN for any other name. */
export async function startDnsServer(zone: Zone = {}): Promise<DnsServer> {
  const state = { zone };
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const name = (question?.name ?? "").toLowerCase();
      const txt = state.zone.txt?.[name];
      const mx = state.zone.mx?.[name];
      if (question?.type === Packet.TYPE.TXT && txt)
        for (const value of txt)
          response.answers.push({
            name: question.name,
            type: Packet.TYPE.TXT,
            class: Packet.CLASS.IN,
            ttl: 60,
            data: characterStrings(value),
          } as never);
      else if (question?.type === Packet.TYPE.MX && mx)
        for (const record of mx)
          response.answers.push({
            name: question.name,
            type: Packet.TYPE.MX,
            class: Packet.CLASS.IN,
            ttl: 60,
            exchange: record.exchange,
            priority: record.priority,
          } as never);
      else if (!txt && !mx) response.header.rcode = Packet.RCODE.NXDOMAIN;
      send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: "127.0.0.1" } });
  const port = addresses.udp?.port;
  return {
    address: `127.0.0.1:${port}`,
    get zone() {
      return state.zone;
    },
    set zone(next: Zone) {
      state.zone = next;
    },
    close: () => server.close(),
  };
}
