/**
 * Debian's chromium, headless, driven by puppeteer-core (a dev dependency; it never downloads a browser). The
 * profile lives in the harness's temp dir; the browser is closed, then its process group SIGKILLed by PID, when
 * the harness closes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'puppeteer-core';
import type { Harness } from './harness.js';
import { chromiumPath } from './tools.js';

export async function launchChromium(h: Harness, timeoutMs = 30_000): Promise<Browser> {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // --no-sandbox: the tests run as root; no GPU in a container
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check', '--disable-dev-shm-usage'],
    userDataDir: h.path('chromium-profile'),
    timeout: timeoutMs,
    protocolTimeout: timeoutMs,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const pid = browser.process()?.pid;
  h.note(`chromium (pid ${pid ?? '?'}) ${await browser.version()}`);
  h.defer(async () => {
    await Promise.race([browser.close().catch(() => undefined), sleep(5000)]);
    if (pid === undefined) return;
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL'); // puppeteer starts chromium in its own process group
      } catch {
        // already gone
      }
    }
  });
  return browser;
}
