/**
 * Errors that domain code raises on purpose. They carry a cause and a kind, never an HTTP status:
 * `http/` maps kinds to status codes and the CLI prints the message.
 */
export type ErrorKind = "invalid" | "not_found" | "conflict" | "unavailable" | "forbidden";

export class DigestError extends Error {
  override readonly name: string = "DigestError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An input file (issue, newsletter, CSV) is wrong at a place a person can find. */
export class InputError extends DigestError {
  override readonly name = "InputError";
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super("invalid", `${file}${line === undefined ? "" : `:${line}`}: ${problem}`, options);
  }
}
