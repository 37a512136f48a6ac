import { type ServerType, serve } from "@hono/node-server";
import { afterAll } from "vitest";
import { socketAddress } from "../../src/http/request.js";
import { freePort } from "../helpers/smtp.js";
import { startService } from "../http/harness.js";
import { launchChromium } from "./chromium.js";

/**
 * The whole app on a free loopback port (the service's database, queue and SMTP capture behind it)
 * with Debian's Chromium to drive it; both are closed when the file ends.
 */
export async function openSite(options: Omit<Parameters<typeof startService>[0] & {}, "publicUrl"> = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const service = await startService({ ...options, publicUrl: base });
  const { createApp } = await import("../../src/http/app.js");
  const app = await createApp({ ...service.deps, clientIp: socketAddress });
  const server: ServerType = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });
  const browser = await launchChromium();
  afterAll(async () => {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  });
  return { base, service, browser };
}
