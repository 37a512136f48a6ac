import { isLoopbackHostname } from "../config.js";
import { type Check, fail, ok, warn } from "./check.js";

/**
 * PUBLIC_URL carries every unsubscribe link: RFC 8058 one-click unsubscription needs https (Gmail
 * and Yahoo require it of bulk senders), and the service must answer there. Plain http is allowed
 * on loopback only (a machine trying things out), and then only as a warning.
 */
export async function publicUrlCheck(
  publicUrl: string,
  timeoutMs: number,
  fetcher: typeof fetch = fetch,
): Promise<Check> {
  const id = "public-url";
  const { protocol, hostname } = new URL(publicUrl);
  const loopback = isLoopbackHostname(hostname);
  if (protocol !== "https:" && !loopback)
    return fail(
      id,
      `PUBLIC_URL ${publicUrl} is plain http: one-click unsubscribe (RFC 8058) needs https, and readers' links would travel in clear`,
      `PUBLIC_URL=${publicUrl.replace(/^http:/, "https:")} (behind a proxy that holds its certificate, such as Caddy or nginx)`,
    );
  const health = `${publicUrl.replace(/\/+$/, "")}/healthz`;
  let status: number;
  try {
    const response = await fetcher(health, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    status = response.status;
    await response.body?.cancel();
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return fail(
      id,
      `${health} does not answer (${cause?.code ?? cause?.message ?? (error as Error).message}): links in mail would lead nowhere`,
      "start digest serve and make PUBLIC_URL reach it (DNS, proxy, firewall), or set PUBLIC_URL to the address readers reach",
    );
  }
  if (status !== 200)
    return fail(
      id,
      `${health} answered ${status}, not 200: PUBLIC_URL does not reach digest serve`,
      "point the proxy for PUBLIC_URL at digest serve's PORT",
    );
  if (protocol !== "https:")
    return warn(
      id,
      `PUBLIC_URL ${publicUrl} is plain http on loopback: fine on this machine, not for real readers`,
      "PUBLIC_URL=https://<your public host> before sending to readers",
    );
  return ok(id, `${health} answers 200 over https`);
}
