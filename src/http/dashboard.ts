import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";

export const dashboardPath = "/admin/queues";

/** The BullMQ dashboard (bull-board), mounted by the app behind the admin bearer check. */
export function dashboard(queues: Queue[]) {
  const adapter = new HonoAdapter(serveStatic);
  adapter.setBasePath(dashboardPath);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: adapter });
  return adapter.registerPlugin();
}
