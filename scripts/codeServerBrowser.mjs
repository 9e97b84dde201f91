// Opens code-server in Debian's headless Chromium through playwright-core.
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export function chromiumPath() {
  const candidates = [process.env.PROMPTSCOPE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('Chromium is missing: apt-get install -y chromium (or set PROMPTSCOPE_CHROMIUM).');
  return found;
}

export async function launchBrowser({ headless = true } = {}) {
  return chromium.launch({ executablePath: chromiumPath(), headless, args: CHROMIUM_FLAGS });
}

/** URL that opens `folder` and loads the extension under development (and optionally a test suite). */
export function workbenchUrl(baseUrl, { folder, extensionDevelopmentPath, extensionTestsPath }) {
  const host = new URL(baseUrl).host;
  const remote = (p) => `vscode-remote://${host}${p}`;
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  const q = new URLSearchParams();
  if (folder) q.set('folder', folder);
  if (payload.length) q.set('payload', JSON.stringify(payload));
  return `${baseUrl}?${q.toString()}`;
}
