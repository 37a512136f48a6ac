import type { ErrorKind } from "../errors.js";

/** The HTTP status of each DigestError kind: the API's `onError` and the console's pages share it. */
export const statusOfKind: Record<ErrorKind, 400 | 403 | 404 | 409 | 503> = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};
