// Preloaded with `node --import` (see test/cli/startup.test.ts): appends the URL of every module
// the process loads to the file $MODULE_LOG_FILE, one a line. ES modules are seen by a loader hook,
// CommonJS ones (also those reached with createRequire) by the require cache at exit.
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";

const file = process.env.MODULE_LOG_FILE;
if (file) {
  register(new URL("./module-log-hooks.mjs", import.meta.url), { data: { file } });
  const cache = createRequire(import.meta.url).cache;
  process.on("exit", () => {
    const urls = Object.keys(cache).map((path) => pathToFileURL(path).href);
    appendFileSync(file, urls.map((url) => `${url}\n`).join(""));
  });
}
