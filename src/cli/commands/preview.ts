import type { Command } from "commander";
import { action } from "../action.js";

export function register(program: Command): void {
  program
    .command("preview")
    .description("start the React Email preview server over emails/ (each template with its PreviewProps)")
    .option("--port <port>", "port for the preview server", "3001")
    .action(
      action(async (opts: { port: string }) => {
        const { spawn } = await import("node:child_process");
        const { join } = await import("node:path");
        const { packageRoot } = await import("../../paths.js");
        const { findPreviewServer } = await import("../preview-server.js");
        const cli = findPreviewServer(packageRoot);
        const child = spawn(
          process.execPath,
          [cli, "dev", "--dir", join(packageRoot, "emails"), "--port", opts.port],
          {
            stdio: ["inherit", "inherit", "inherit"],
            cwd: packageRoot,
          },
        );
        return new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
      }),
    );
}
