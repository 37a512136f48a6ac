import type { Command } from "commander";
import { action } from "../action.js";

/** Loaded when a command runs: it brings in the database drivers. */
const context = () => import("../context.js");

export function register(program: Command): void {
  const staff = program.command("staff").description("staff console accounts: add, list, remove");

  staff
    .command("add <email>")
    .description("add a console account (or renew its link) and print its one-time setup link (24 h)")
    .option("--role <role>", "admin or editor", "editor")
    .action(
      action(async (email: string, options: { role: string }) => {
        const { loadConfig, resolvePublicUrl } = await import("../../config.js");
        const { addStaff } = await import("../../staff/accounts.js");
        const { cliActor } = await import("../../staff/audit.js");
        const publicUrl = resolvePublicUrl(loadConfig(["publicUrl", "port"]));
        if (publicUrl.warning) process.stderr.write(`warning: ${publicUrl.warning}\n`);
        const added = await (await context()).withDatabase((db) =>
          addStaff(db.db, cliActor, { email, role: options.role }),
        );
        process.stderr.write(
          `${added.created ? "added" : "renewed the setup link of"} ${added.account.email} (${added.account.role})${added.created ? "" : " and signed out its sessions; its old password no longer works"}; the link works once, for 24 hours:\n`,
        );
        process.stdout.write(`${publicUrl.url}/admin/setup/${added.token}\n`);
      }),
    );

  staff
    .command("list")
    .description("console accounts with their role and whether a password is set")
    .option("--json", "print JSON")
    .action(
      action(async (options: { json?: boolean }) => {
        const { listStaff } = await import("../../staff/accounts.js");
        const rows = await (await context()).withDatabase((db) => listStaff(db.db));
        const view = rows.map((r) => ({
          email: r.email,
          role: r.role,
          password: r.passwordHash !== null,
          created: r.createdAt.toISOString(),
        }));
        if (options.json) process.stdout.write(`${JSON.stringify(view)}\n`);
        else
          for (const r of view)
            process.stdout.write(`${r.email}\t${r.role}\t${r.password ? "active" : "setup link pending"}\n`);
      }),
    );

  staff
    .command("remove <email>")
    .description("remove a console account and end its sessions")
    .action(
      action(async (email: string) => {
        const { removeStaff } = await import("../../staff/accounts.js");
        const { cliActor } = await import("../../staff/audit.js");
        const removed = await (await context()).withDatabase((db) => removeStaff(db.db, cliActor, email));
        if (!removed) {
          process.stderr.write(`error: no staff account ${email}\n`);
          return 1;
        }
        process.stdout.write(`removed ${email}\n`);
      }),
    );
}
