import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium; a missing binary fails the test with this path in the message. */
export const chromiumPath = process.env.MIRRORHOOK_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium and no background traffic of its own; Playwright gives every launch a fresh --user-data-dir. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Where screenshots go (git-ignored). */
export const artifactDir = join(process.cwd(), '.cache', 'test-artifacts');
