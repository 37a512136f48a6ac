import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { testRunId } from "./run.js";
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
  /** The data folder (a template can be made of it once stopped). */
  data: string;
  stop(mode?: "fast" | "immediate"): void;
  start(): void;
  restart(mode?: "fast" | "immediate"): void;
  destroy(): void;
}

/**
 * A stopped cluster's data folder that private clusters start from as copies: initdb is most of
 * a private cluster's start (a second or more on a loaded 2-core box), a copy of its result a
 * fraction of that. `prepare` runs once against the started template (e.g. migrations), so every
 * copy starts with its result too. The folder goes when the process exits.
 */
export interface ClusterTemplate {
  data: string;
}

export async function privateClusterTemplate(
  prepare?: (url: string) => Promise<void>,
): Promise<ClusterTemplate> {
  const cluster = await startPrivatePostgres({ initdb: true });
  try {
    await prepare?.(cluster.url);
  } catch (error) {
    cluster.destroy();
    throw error;
  }
  cluster.stop("fast");
  return { data: cluster.data };
}

/** initdb's result, made once per process and copied for each plain private cluster. */
let pristine: Promise<ClusterTemplate> | undefined;

/**
 * A PostgreSQL cluster of this test's own (a temp folder, a free port), for tests that stop or
 * restart the database: never do that to the shared server. It starts as a copy of `from`, or of a
 * freshly initdb'd cluster made once per process. Postgres refuses to run as root, so as root the
 * cluster belongs to the `postgres` user.
 */
export async function startPrivatePostgres(
  options: { from?: ClusterTemplate; initdb?: boolean } = {},
): Promise<PrivatePostgres> {
  let from = options.from;
  if (!options.initdb && !from) {
    pristine ??= privateClusterTemplate();
    from = await pristine;
  }
  const port = await freePort();
  // The run's id in the name: the run's end removes what a test process could not (sweepClusters).
  const dir = mkdtempSync(join(tmpdir(), clusterPrefix(testRunId())));
  const data = join(dir, "data");
  const asRoot = userInfo().uid === 0;
  const run = (bin: string, args: string[]) => runPg(bin, args, dir);
  if (asRoot) {
    chmodSync(dir, 0o755);
    const ids = execFileSync("id", ["-u", "postgres"]).toString().trim();
    const gid = execFileSync("id", ["-g", "postgres"]).toString().trim();
    chownSync(dir, Number(ids), Number(gid));
  }
  // `cp -a` keeps the owner (postgres, when root runs this) and the 0700 Postgres insists on.
  if (from) execFileSync("cp", ["-a", from.data, data], { stdio: "pipe" });
  else run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const start = () =>
    run("pg_ctl", ["-D", data, "-o", serverOptions, "-w", "-t", "30", "-l", join(dir, "log"), "start"]);
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
    data,
    stop,
    start,
    restart(mode = "fast") {
      stop(mode);
      start();
    },
    destroy,
  };
}

/** Runs one of PostgreSQL's server programs, as the `postgres` user when this process is root. */
function runPg(bin: string, args: string[], cwd: string): void {
  const asRoot = userInfo().uid === 0;
  const cmd = asRoot ? "runuser" : pgBin(bin);
  const argv = asRoot ? ["-u", "postgres", "--", pgBin(bin), ...args] : args;
  execFileSync(cmd, argv, { stdio: "pipe", cwd });
}

const clusterPrefix = (run: string) => `digest-pg-${run}-`;

/**
 * Stops every private cluster of a run that is still running and removes their folders (the
 * templates' too): a test process's exit handlers do not run when vitest ends its worker, so a
 * cluster a test did not destroy itself outlived the run. Returns how many were still running.
 */
export function sweepClusters(run: string): number {
  let running = 0;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(clusterPrefix(run))) continue;
    const dir = join(tmpdir(), name);
    const data = join(dir, "data");
    if (existsSync(join(data, "postmaster.pid"))) {
      running++;
      try {
        runPg("pg_ctl", ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], dir);
      } catch {
        // stopped meanwhile
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return running;
}
