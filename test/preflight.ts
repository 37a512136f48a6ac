/**
 * `npm test` runs this first: within a second or two it checks that everything the suites use is
 * on this machine and prints, for each missing piece, the exact command that starts or installs
 * it. Without it a missing Chromium or a stopped Redis shows up minutes later as one obscure
 * failure among many. `.ci/run` installs and starts all of it.
 */
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
import postgres from "postgres";

export interface Problem {
  what: string;
  fix: string;
}

const postgresUrl = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const apt = (packages: string) => `apt-get install -y ${packages}`;

/** A program on the PATH, or in the sbin folders Debian keeps some of them in (Postfix, Dovecot). */
function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

async function checkPostgres(): Promise<Problem[]> {
  const sql = postgres(postgresUrl, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return [];
  } catch (error) {
    const code = (error as { code?: string }).code;
    const url = new URL(postgresUrl);
    if (code === "3D000") {
      return [
        {
          what: `PostgreSQL answers, but has no database "${url.pathname.slice(1)}"`,
          fix: `createdb -h ${url.hostname} -p ${url.port || 5432} -U ${url.username || "postgres"} ${url.pathname.slice(1)}`,
        },
      ];
    }
    const installed = existsSync("/usr/lib/postgresql");
    const cluster = installed ? readdirSync("/etc/postgresql").sort().at(-1) : undefined;
    return [
      {
        what: `PostgreSQL at ${url.host} (${(error as Error).message}); the tests need trust auth for user ${url.username || "postgres"}`,
        fix: installed
          ? `pg_ctlcluster ${cluster ?? "<version>"} main start`
          : `${apt("postgresql")} && pg_ctlcluster $(ls /etc/postgresql) main start && createdb -h 127.0.0.1 -U postgres test`,
      },
    ];
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** A PING over a plain socket: ioredis would take seconds to give up on a refused connection. */
function pingRedis(url: URL): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 6379) });
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(1500, () => done("no answer within 1.5 s"));
    socket.on("error", (error: Error & { code?: string }) => done(error.code ?? error.message));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) =>
      done(data.toString().startsWith("+PONG") ? undefined : data.toString().trim()),
    );
  });
}

async function checkRedis(): Promise<Problem[]> {
  const url = new URL(redisUrl);
  const problem = await pingRedis(url);
  if (!problem) return [];
  return [
    {
      what: `Redis at ${url.host} (${problem})`,
      fix: `${findProgram("redis-server") ? "" : `${apt("redis-server")} && `}redis-server --daemonize yes --bind 127.0.0.1 --port ${url.port || 6379} --save "" --appendonly no`,
    },
  ];
}

function checkPrograms(): Problem[] {
  const problems: Problem[] = [];
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(chromium)) {
    const elsewhere = findProgram("chromium");
    problems.push({
      what: `Chromium at ${chromium} (the browser test drives Debian's Chromium, never a download)`,
      fix: elsewhere ? `export CHROMIUM_PATH=${elsewhere}` : apt("chromium"),
    });
  }
  const programs: [string[], string, string][] = [
    [["redis-server"], "redis-server", "private Redis servers for tests that restart or flush one"],
    [["pdftotext", "pdfinfo", "pdftoppm"], "poppler-utils", "reading the PDF edition back"],
    [["dovecot"], "dovecot-imapd", "a private IMAP mailbox for bounce reading"],
    [["smtp-sink", "smtp-source"], "postfix", "Postfix's SMTP test tools (the benchmark's baseline)"],
  ];
  for (const [names, pkg, why] of programs) {
    const missing = names.filter((name) => !findProgram(name));
    if (missing.length === 0) continue;
    const fix =
      pkg === "postfix"
        ? `echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections && DEBIAN_FRONTEND=noninteractive ${apt("postfix")}`
        : `DEBIAN_FRONTEND=noninteractive ${apt(pkg)}`;
    problems.push({ what: `${missing.join(", ")} (${why})`, fix });
  }
  // The reader-language browser test screenshots Japanese pages: without a CJK font they are tofu.
  if (
    !existsSync("/usr/share/fonts/opentype/noto") ||
    !readdirSync("/usr/share/fonts/opentype/noto").some((f) => f.startsWith("NotoSansCJK"))
  ) {
    problems.push({
      what: "a Japanese font (Noto Sans CJK) for the browser test of Japanese reader pages",
      fix: `DEBIAN_FRONTEND=noninteractive ${apt("fonts-noto-cjk")}`,
    });
  }
  // dkimpy, the independent verifier the DKIM tests check our signatures with (Debian's Python).
  if (!existsSync("/usr/bin/python3") || !existsSync("/usr/lib/python3/dist-packages/dkim/__init__.py")) {
    problems.push({
      what: "dkimpy for /usr/bin/python3 (the independent DKIM verifier of the signing tests)",
      fix: `DEBIAN_FRONTEND=noninteractive ${apt("python3-dkim")}`,
    });
  }
  if (!existsSync("/usr/lib/postgresql") || readdirSync("/usr/lib/postgresql").length === 0) {
    problems.push({
      what: "PostgreSQL server programs under /usr/lib/postgresql (initdb, pg_ctl: private clusters)",
      fix: apt("postgresql"),
    });
  }
  return problems;
}

/** Everything the test suites need that this machine lacks, each with the command that fixes it. */
export async function checkPrerequisites(): Promise<Problem[]> {
  const [pg, redis] = await Promise.all([checkPostgres(), checkRedis()]);
  return [...pg, ...redis, ...checkPrograms()];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const started = Date.now();
  const problems = await checkPrerequisites();
  if (problems.length === 0) {
    process.stderr.write(
      `preflight: PostgreSQL, Redis, Chromium and the test tools are here (${Date.now() - started} ms)\n`,
    );
  } else {
    const lines = problems.map((p) => `  missing: ${p.what}\n    fix:   ${p.fix}`);
    process.stderr.write(
      `preflight: the tests need ${problems.length === 1 ? "one more thing" : `${problems.length} more things`} on this machine (as root, or with sudo):\n${lines.join("\n")}\n` +
        `(.ci/run installs and starts all of them)\n`,
    );
    process.exitCode = 1;
  }
}
