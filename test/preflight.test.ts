import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers/cli.js";

const tsx = join(repoRoot, "node_modules", ".bin", "tsx");

function preflight(env: Record<string, string> = {}) {
  const started = Date.now();
  const result = spawnSync(tsx, [join(repoRoot, "test", "preflight.ts")], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: result.status, stderr: result.stderr, ms: Date.now() - started };
}

describe("the test preflight", () => {
  it("passes quietly on a machine that has everything", () => {
    const run = preflight();
    expect(run.stderr).toContain("are here");
    expect(run.code).toBe(0);
  });

  it("names each missing service with the exact command that starts it, within seconds", () => {
    const run = preflight({
      TEST_REDIS_URL: "redis://127.0.0.1:1",
      TEST_POSTGRES_URL: "postgres://postgres@127.0.0.1:1/test",
      CHROMIUM_PATH: "/nonexistent/chromium",
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("missing: PostgreSQL at 127.0.0.1:1");
    expect(run.stderr).toMatch(/fix: +pg_ctlcluster \S+ main start/);
    expect(run.stderr).toContain("missing: Redis at 127.0.0.1:1");
    expect(run.stderr).toContain(
      'redis-server --daemonize yes --bind 127.0.0.1 --port 1 --save "" --appendonly no',
    );
    expect(run.stderr).toContain("missing: Chromium at /nonexistent/chromium");
    expect(run.ms).toBeLessThan(10_000);
  });

  it("tells apart a running PostgreSQL that lacks the test database", () => {
    const run = preflight({ TEST_POSTGRES_URL: "postgres://postgres@127.0.0.1:5432/digest_no_such_db" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("createdb -h 127.0.0.1 -p 5432 -U postgres digest_no_such_db");
  });
});
