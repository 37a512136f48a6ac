import { open } from "node:fs/promises";
import { DigestError } from "../errors.js";

/**
 * The first `limit` bytes of a saved report, all the parser reads (bounces/parse.ts's
 * PARSED_BYTES): a file of any size costs no more memory than that, as with the bounce mailbox and
 * inbound SMTP.
 */
export async function readReportFile(file: string, limit: number): Promise<Buffer> {
  try {
    const handle = await open(file, "r");
    try {
      const buffer = Buffer.alloc(limit);
      let length = 0;
      while (length < limit) {
        const { bytesRead } = await handle.read(buffer, length, limit - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      return buffer.subarray(0, length);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new DigestError(
      "invalid",
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      {
        cause: error,
      },
    );
  }
}
