import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser as PlaywrightBrowser, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for headless Debian Chromium on a closed network, with WebRTC media on loopback. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Debian's Chromium in a fresh profile. Fails loudly when it is not installed. With `netns`, the
 * browser runs inside that network namespace (`ip netns exec`; Playwright drives it over pipes,
 * which cross namespaces).
 */
export async function launchChromium(opts: { netns?: string } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: run \`npm run test:deps\` (apt-get install chromium)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'schoolcam-chromium-'));
  let executablePath = CHROMIUM_PATH;
  if (opts.netns) {
    executablePath = join(dir, 'chromium-in-netns');
    writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec ${opts.netns} ${CHROMIUM_PATH} "$@"\n`);
    chmodSync(executablePath, 0o755);
  }
  const profile = join(dir, 'profile');
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: FLAGS });
  let closed = false;
  return {
    context,
    close: async () => {
      if (closed) return;
      closed = true;
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's Chromium as a browser that opens separate contexts (each its own cookies and
 * window size), for journeys where several people use the dashboard at once.
 */
export async function launchChromiumBrowser(): Promise<PlaywrightBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: run \`npm run test:deps\` (apt-get install chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}
