// `npm run test:e2e`: the browser end-to-end test. Builds the extension, starts code-server (installing it
// into the cache on first use) with a copy of samples/, loads Promptscope as the extension under
// development (or installs the packaged VSIX with --vsix), and drives the workbench with Chromium in a
// light and a dark theme. Screenshots: test-output/e2e-{light,dark}-{editor,panel}.png.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runEditorFlow } from '../test/e2e/editorFlow.mjs';
import { launchBrowser, workbenchUrl } from './codeServerBrowser.mjs';
import { codeServerCli, ensureCodeServer, startCodeServer } from './codeServer.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'test-output');
const useVsix = process.argv.includes('--vsix');
const themes = [
  ['light', 'Default Light Modern'],
  ['dark', 'Default Dark Modern'],
];

ensureCodeServer();
mkdirSync(outDir, { recursive: true });
for (const [theme] of themes) rmSync(path.join(outDir, `e2e-${theme}-failure.png`), { force: true });
const step = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
let vsix;
if (useVsix) {
  step([path.join(root, 'scripts', 'packageVsix.mjs')]);
  vsix = readdirSync(root).filter((f) => f.endsWith('.vsix')).map((f) => path.join(root, f)).sort().at(-1);
} else {
  step([path.join(root, 'scripts', 'build.mjs')]);
}

let failed = false;
for (const [theme, themeName] of themes) {
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'promptscope-ws-'));
  cpSync(path.join(root, 'samples'), workspace, { recursive: true });
  const userData = mkdtempSync(path.join(os.tmpdir(), 'promptscope-cs-user-'));
  const extensionsDir = path.join(userData, 'extensions');
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.colorTheme': themeName,
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'workbench.tips.enabled': false,
      'editor.minimap.enabled': false,
      'editor.fontSize': 16,
    }),
  );
  if (vsix) codeServerCli(['--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', userData]);
  const server = await startCodeServer({ userDataDir: userData, extensionsDir });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const url = workbenchUrl(server.url, { folder: workspace, extensionDevelopmentPath: vsix ? undefined : root });
    await page.goto(url);
    const summary = await runEditorFlow(page, { theme, outDir });
    console.log(`[${theme}] ok: ${JSON.stringify({ tints: summary.tints, chips: summary.chips })}`);
  } catch (err) {
    failed = true;
    console.error(`[${theme}] FAILED: ${String(err?.stack ?? err)}`);
    const pages = browser.contexts().flatMap((c) => c.pages());
    await pages[0]?.screenshot({ path: path.join(outDir, `e2e-${theme}-failure.png`) }).catch(() => {});
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
    rmSync(userData, { recursive: true, force: true });
  }
}
console.log(failed ? 'e2e: FAILED' : 'e2e: passed (screenshots in test-output/)');
process.exit(failed ? 1 : 0);
