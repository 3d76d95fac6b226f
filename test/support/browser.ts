import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/**
 * For the hooks that launch Chromium: its start, beside a fleet and the rest of the suite on a loaded
 * two-core machine, may outlast vitest's 30 s hook timeout, which would fail the whole suite.
 */
export const BROWSER_HOOK_TIMEOUT_MS = 90_000;

/** Debian's chromium package: playwright's own browser download cannot work on these machines. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Headless Chromium for browser tests. A missing browser is a failure, never a skip: .ci/run installs
 * it, and a test that quietly did not run would say the dashboard works when nobody looked.
 * Playwright gives every launch a fresh temporary profile (--user-data-dir) and removes it on close.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (the browser tests need it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
}
