import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { freePort } from "./smtp.js";

/**
 * A Dovecot IMAP server of the test's own (dovecot-imapd from apt), on a free port, with its
 * config, users and maildirs in a temp directory: plain-text login over loopback, no TLS.
 */
export interface PrivateDovecot {
  port: number;
  user: string;
  password: string;
  /** imap://user:password@127.0.0.1:port/<mailbox> */
  url(mailbox?: string): string;
  stop(): Promise<void>;
  log(): string;
}

export async function startDovecot(options: { withoutIdle?: boolean } = {}): Promise<PrivateDovecot> {
  const dir = mkdtempSync(join(tmpdir(), "digest-dovecot-"));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const user = "bounces";
  const password = "imap-test-password";
  const root = process.getuid?.() === 0;
  // Dovecot never runs mail processes as root: as root the mail belongs to nobody.
  const [uid, gid] = root ? [65534, 65534] : [process.getuid?.() ?? 1000, process.getgid?.() ?? 1000];
  const me = userInfo().username;
  for (const sub of ["run", "state", "mail", "home"]) mkdirSync(join(dir, sub));
  if (root) {
    chownSync(join(dir, "mail"), uid, gid);
    chownSync(join(dir, "home"), uid, gid);
  }
  writeFileSync(join(dir, "passwd"), `${user}:{PLAIN}${password}::::::\n`);
  const config = `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
first_valid_uid = ${Math.min(uid, 500)}
first_valid_gid = ${Math.min(gid, 500)}
default_internal_user = ${root ? "dovecot" : me}
default_login_user = ${root ? "dovenull" : me}
${options.withoutIdle ? "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ UIDPLUS MOVE NAMESPACE" : ""}
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  ${root ? "" : "chroot ="}
}
service anvil {
  ${root ? "" : "chroot ="}
}
`;
  writeFileSync(join(dir, "dovecot.conf"), config);
  const child: ChildProcess = spawn("/usr/sbin/dovecot", ["-F", "-c", join(dir, "dovecot.conf")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const log = () => {
    try {
      return `${stderr}${readFileSync(join(dir, "dovecot.log"), "utf8")}`;
    } catch {
      return stderr;
    }
  };
  const deadline = Date.now() + 15_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`dovecot did not start:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", () => child.kill("SIGKILL"));
  return {
    port,
    user,
    password,
    url: (mailbox = "INBOX") => `imap://${user}:${password}@127.0.0.1:${port}/${mailbox}`,
    stop,
    log,
  };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("data", (d) => {
      socket.destroy();
      resolve(d.toString().startsWith("* OK"));
    });
    socket.once("error", () => resolve(false));
  });
}

/** An IMAP session on a private Dovecot, as a person's mail client would open one, for `work`. */
export async function withImap<T>(server: PrivateDovecot, work: (imap: ImapFlow) => Promise<T>): Promise<T> {
  const imap = new ImapFlow({
    host: "127.0.0.1",
    port: server.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: server.user, pass: server.password },
    logger: false,
  });
  await imap.connect();
  try {
    return await work(imap);
  } finally {
    await imap.logout();
  }
}
