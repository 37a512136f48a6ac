/**
 * The relay's own id for a message, from its 250 answer to DATA: "250 2.0.0 Ok: queued as 4BxY3c"
 * (Postfix, SendGrid), "250 Ok 0100018c1a2b3c4d-...-000000" (SES), "250 OK id=1r2s3t-0004Xy-Ab"
 * (Exim). Provider webhooks name a message by this id, so it is stored with the delivery. The parse
 * is general on purpose: the last token after "queued as", "Ok" or "id=" that looks like an id (a
 * digit in it, no spaces, 6 to 200 characters); undefined when the answer carries none.
 */
export function relayMessageId(response: string): string | undefined {
  const after = /(?:\bqueued as\b|\bok\b:?|\bid=)(.*)$/i.exec(response);
  if (!after?.[1]) return undefined;
  const ids = after[1]
    .split(/[\s,;]+/)
    .map((token) => token.replace(/^id=/i, "").replace(/^[<[("']+|[>\])"'.]+$/g, ""))
    .filter((token) => token.length >= 6 && token.length <= 200 && /\d/.test(token) && idShape.test(token));
  return ids.at(-1);
}

const idShape = /^[A-Za-z0-9][A-Za-z0-9._@+=:/-]*$/;
