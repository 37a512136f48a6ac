import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";

export interface Outbox {
  url: string;
  dir: string;
  /** Messages stored so far. */
  count(): number;
  close(): Promise<void>;
}

/**
 * The demo's stand-in for a real mail server: an SMTP server on loopback that accepts everything
 * and stores each message as an .eml file a mail client can open.
 */
export async function startOutbox(dir: string): Promise<Outbox> {
  mkdirSync(dir, { recursive: true });
  let stored = 0;
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        stored += 1;
        const to = (session.envelope.rcptTo[0]?.address ?? "unknown").replace(/[^A-Za-z0-9@._+-]/g, "_");
        // What a receiving server adds on delivery: the envelope sender (the VERP address).
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
        const returnPath = Buffer.from(`Return-Path: <${from.replace(/[\r\n<>]/g, "")}>\r\n`);
        writeFileSync(
          join(dir, `${stamp}-${String(stored).padStart(5, "0")}-${to}.eml`),
          Buffer.concat([returnPath, ...chunks]),
        );
        callback(null, "2.0.0 stored");
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    dir,
    count: () => stored,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
