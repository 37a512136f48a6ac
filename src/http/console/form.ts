import { HTTPException } from "hono/http-exception";

/** A console form's fields (urlencoded or multipart); a body that cannot be read is a 400. */
export async function formOf(c: {
  req: { parseBody(): Promise<Record<string, string | File | (string | File)[]>> };
}): Promise<Record<string, string | File | (string | File)[]>> {
  try {
    return await c.req.parseBody();
  } catch {
    throw new HTTPException(400, { message: "the form data cannot be read" });
  }
}

/** A text field's value, or "" for a missing, repeated or file field. */
export const fieldText = (v: unknown): string => (typeof v === "string" ? v : "");
