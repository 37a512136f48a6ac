// The loader hooks of module-log.mjs: they run on the loader's own thread, so they write the file
// themselves instead of telling the main thread.
import { appendFileSync } from "node:fs";

let file = "";

export function initialize(data) {
  file = data.file;
}

export async function load(url, context, nextLoad) {
  appendFileSync(file, `${url}\n`);
  return nextLoad(url, context);
}
