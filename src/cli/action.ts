import { DigestError } from "../errors.js";

/** What the person typed is wrong (bad value, unknown name, already done): exit 2, as for bad flags. */
const badInput = new Set(["invalid", "not_found", "conflict"]);

/**
 * Wraps a command's action: stdout stays for the command's output, every failure becomes one
 * message on stderr and a non-zero exit. Unexpected errors also print their cause chain.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | undefined | unknown>) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === "number" ? code : 0;
    } catch (error) {
      process.stderr.write(`${describe(error)}\n`);
      // Refused input exits 2 (a frozen published issue is a conflict too).
      process.exitCode = error instanceof DigestError && badInput.has(error.kind) ? 2 : 1;
    }
  };
}

export function describe(error: unknown): string {
  if (error instanceof DigestError) return `error: ${error.message}`;
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    lines.push(
      current instanceof Error ? `${depth ? "caused by: " : "error: "}${current.message}` : String(current),
    );
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join("\n");
}
