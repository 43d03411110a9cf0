// Headless Chromium for the browser tests: Debian's system browser driven by playwright-core,
// which downloads none. Where it is missing (.ci/run installs it) the tests skip, and say so.
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

const CHROMIUM = process.env["NETC_CHROMIUM"] ?? "/usr/bin/chromium";

/** Whether the browser tests can run; when not, a notice on stderr says why they skip. */
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  process.stderr.write(
    `notice: ${CHROMIUM} is missing: the browser tests skip (apt-get install chromium, or set NETC_CHROMIUM)\n`,
  );
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM });
}

/**
 * A new page whose console errors and uncaught exceptions are collected in `errors`: a test
 * ends by expecting it empty.
 */
export async function watchedPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return { page, errors };
}
