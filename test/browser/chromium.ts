import { chromium } from "playwright-core";

/** The headless Chromium every browser test drives (CHROMIUM_PATH, else the system's). */
export const launchChromium = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
  });
