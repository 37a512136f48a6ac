import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./smtp.js";

/** PostgreSQL's server binaries (initdb, pg_ctl), which Debian keeps off the PATH. */
function pgBin(name: string): string {
  const root = "/usr/lib/postgresql";
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  if (!version) throw new Error("no PostgreSQL server installed under /usr/lib/postgresql");
  return join(root, version, "bin", name);
}

export interface PrivatePostgres {
  url: string;
  port: number;
  stop(mode?: "fast" | "immediate"): void;
  start(): void;
  restart(mode?: "fast" | "immediate"): void;
  destroy(): void;
}

/**
 * A PostgreSQL cluster of this test's own (initdb into a temp folder, a free port), for tests that
 * stop or restart the database: never do that to the shared server. Postgres refuses to run as
 * root, so as root the cluster belongs to the `postgres` user.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "digest-pg-"));
  const data = join(dir, "data");
  const asRoot = userInfo().uid === 0;
  const run = (bin: string, args: string[]) => {
    const cmd = asRoot ? "runuser" : pgBin(bin);
    const argv = asRoot ? ["-u", "postgres", "--", pgBin(bin), ...args] : args;
    execFileSync(cmd, argv, { stdio: "pipe", cwd: dir });
  };
  if (asRoot) {
    chmodSync(dir, 0o755);
    const ids = execFileSync("id", ["-u", "postgres"]).toString().trim();
    const gid = execFileSync("id", ["-g", "postgres"]).toString().trim();
    chownSync(dir, Number(ids), Number(gid));
  }
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const start = () =>
    run("pg_ctl", ["-D", data, "-o", options, "-w", "-t", "30", "-l", join(dir, "log"), "start"]);
  const stop = (mode: "fast" | "immediate" = "fast") => {
    try {
      run("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "30", "stop"]);
    } catch {
      // already stopped
    }
  };
  start();
  const destroy = () => {
    stop("immediate");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", destroy);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    restart(mode = "fast") {
      stop(mode);
      start();
    },
    destroy,
  };
}
