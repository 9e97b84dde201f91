// `npm run test:e2e`: the browser end-to-end test. Builds the extension, starts code-server (installing it
// into the cache on first use) with a copy of samples/, loads Promptscope as the extension under
// development (or installs the packaged VSIX with --vsix), and drives the workbench with Chromium in the
// light, dark and high-contrast themes. Screenshots: test-output/e2e-{light,dark,hc}-{editor,panel}.png,
// and test-output/readme-editor-{light,dark}.png (editor, hover and panel side by side).
//
// `npm run test:e2e -- --readme-screenshots` also copies the last two to media/screenshots/editor-{light,dark}.png
// (the README's images); it implies --vsix so that the window shows the installed extension.
// `--theme light|dark|hc` runs one theme only.
// Then the first-activation walkthrough flow, in a fresh profile each, in the light and dark themes
// (test-output/e2e-{light,dark}-walkthrough-*.png); `--walkthrough-only` runs only that, `--no-walkthrough`
// skips it, and `--walkthrough-images` also writes the steps' images to media/walkthrough/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runEditorFlow } from '../test/e2e/editorFlow.mjs';
import { runCompareFlow } from '../test/e2e/compareFlow.mjs';
import { runNotebookFlow } from '../test/e2e/notebookFlow.mjs';
import { runRowFlow } from '../test/e2e/rowFlow.mjs';
import { runRtlFlow } from '../test/e2e/rtlFlow.mjs';
import { runWalkthroughFlow } from '../test/e2e/walkthroughFlow.mjs';
import { runLiveFlow } from '../test/e2e/liveFlow.mjs';
import { launchBrowser, workbenchUrl } from './codeServerBrowser.mjs';
import { codeServerCli, ensureCodeServer, startCodeServer } from './codeServer.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'test-output');
const updateReadme = process.argv.includes('--readme-screenshots');
const useVsix = process.argv.includes('--vsix') || updateReadme;
// `--rtl-only` runs only the right-to-left and reload checks.
const onlyRtl = process.argv.includes('--rtl-only');
const onlyWalkthrough = process.argv.includes('--walkthrough-only');
const walkthroughImages = process.argv.includes('--walkthrough-images');
// `--compare-only` runs only the compare-runs and notebook flows.
const onlyCompare = process.argv.includes('--compare-only');
// `--live-only` runs only the live-results flow (partial and final screenshots).
const onlyLive = process.argv.includes('--live-only');
const withWalkthrough = onlyWalkthrough || walkthroughImages || !(process.argv.includes('--no-walkthrough') || onlyRtl || onlyCompare || onlyLive);
const onlyTheme = process.argv.includes('--theme') ? process.argv[process.argv.indexOf('--theme') + 1] : undefined;
const themes = [
  ['light', 'Default Light Modern'],
  ['dark', 'Default Dark Modern'],
  ['hc', 'Default High Contrast'],
].filter(([t]) => !onlyTheme || t === onlyTheme);
/** Themes whose run also takes the README image. */
const readmeThemes = ['light', 'dark'];
const MAX_README_BYTES = 300 * 1024;

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

/**
 * A fresh workspace (a copy of samples/, in a folder called `samples` as in the repository: its name shows in
 * the window) and a fresh code-server profile in the theme. The flows are written for occlusion as the
 * configured method (the default is "auto").
 */
function freshProfile(themeName) {
  const workspaceParent = mkdtempSync(path.join(os.tmpdir(), 'promptscope-ws-'));
  const workspace = path.join(workspaceParent, 'samples');
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
      'promptscope.method': 'occlusion',
    }),
  );
  return { workspaceParent, workspace, userData, extensionsDir };
}

let failed = false;
for (const [theme, themeName] of onlyWalkthrough || walkthroughImages ? [] : themes) {
  const { workspaceParent, workspace, userData, extensionsDir } = freshProfile(themeName);
  // As for a user who turned walkthroughs on install off (the walkthrough is checked in its own fresh profile
  // below). The setting is machine-scoped: a remote window (code-server's is one) reads it from the machine's
  // settings, not from the user settings above.
  mkdirSync(path.join(userData, 'Machine'), { recursive: true });
  writeFileSync(path.join(userData, 'Machine', 'settings.json'), JSON.stringify({ 'workbench.welcomePage.walkthroughs.openOnInstall': false }));
  if (vsix) codeServerCli(['--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', userData]);
  const server = await startCodeServer({ userDataDir: userData, extensionsDir });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const url = workbenchUrl(server.url, { folder: workspace, extensionDevelopmentPath: vsix ? undefined : root });
    await page.goto(url);
    const readmeShot = readmeThemes.includes(theme) ? path.join(outDir, `readme-editor-${theme}.png`) : undefined;
    const summary = onlyRtl || onlyCompare || onlyLive ? { tints: 0, chips: 0 } : await runEditorFlow(page, { theme, outDir, readmeShot, explainWith: theme === 'light' });
    // Right-to-left text in the light and dark themes; the reload check once.
    if (theme !== 'hc' && !onlyCompare && !onlyLive) await runRtlFlow(page, { theme, outDir, reload: theme === 'light' });
    if (theme === 'light' && !onlyCompare && !onlyLive) await runRowFlow(page, { theme, outDir });
    if (theme !== 'hc' && !onlyRtl && !onlyLive) await runCompareFlow(page, { theme, outDir, reload: theme === 'light' });
    if (theme === 'light' && !onlyRtl && !onlyLive) await runNotebookFlow(page, { theme, outDir });
    // Partial and final results, in the light and dark themes.
    if (theme !== 'hc' && !onlyRtl && !onlyCompare) await runLiveFlow(page, { theme, outDir, workspace });
    if (readmeShot && !onlyRtl && !onlyCompare && !onlyLive) {
      const bytes = statSync(readmeShot).size;
      console.log(`[${theme}] ${path.relative(root, readmeShot)}: ${(bytes / 1024).toFixed(0)} KB`);
      if (updateReadme) {
        if (bytes > MAX_README_BYTES) throw new Error(`${readmeShot} is larger than ${MAX_README_BYTES / 1024} KB`);
        const dest = path.join(root, 'media', 'screenshots', `editor-${theme}.png`);
        mkdirSync(path.dirname(dest), { recursive: true });
        copyFileSync(readmeShot, dest);
        console.log(`[${theme}] wrote ${path.relative(root, dest)}`);
      }
    }
    const walkthroughTabs = await page.locator('.tab', { hasText: /Walkthrough|Welcome/ }).count();
    if (walkthroughTabs) throw new Error(`the walkthrough opened although walkthroughs on install are off (${walkthroughTabs} tab)`);
    console.log(`[${theme}] ok: ${JSON.stringify({ tints: summary.tints, chips: summary.chips })}`);
  } catch (err) {
    failed = true;
    console.error(`[${theme}] FAILED: ${String(err?.stack ?? err)}`);
    const pages = browser.contexts().flatMap((c) => c.pages());
    await pages[0]?.screenshot({ path: path.join(outDir, `e2e-${theme}-failure.png`) }).catch(() => {});
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
    rmSync(workspaceParent, { recursive: true, force: true });
    rmSync(userData, { recursive: true, force: true });
  }
}
// The walkthrough on first activation: a fresh profile with the default settings (it opens on install).
for (const [theme, themeName] of withWalkthrough ? themes.filter(([t]) => t !== 'hc') : []) {
  const { workspaceParent, workspace, userData, extensionsDir } = freshProfile(themeName);
  if (vsix) codeServerCli(['--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', userData]);
  const server = await startCodeServer({ userDataDir: userData, extensionsDir });
  const browser = await launchBrowser();
  try {
    // Wider than the main flows: the half of the window beside the walkthrough becomes the steps' images.
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(workbenchUrl(server.url, { folder: workspace, extensionDevelopmentPath: vsix ? undefined : root }));
    const imagesDir = walkthroughImages ? path.join(root, 'media', 'walkthrough') : undefined;
    await runWalkthroughFlow(page, { theme, outDir, imagesDir });
    console.log(`[${theme}] ok: walkthrough`);
  } catch (err) {
    failed = true;
    console.error(`[${theme}] walkthrough FAILED: ${String(err?.stack ?? err)}`);
    const pages = browser.contexts().flatMap((c) => c.pages());
    await pages[0]?.screenshot({ path: path.join(outDir, `e2e-${theme}-walkthrough-failure.png`) }).catch(() => {});
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
    rmSync(workspaceParent, { recursive: true, force: true });
    rmSync(userData, { recursive: true, force: true });
  }
}
console.log(failed ? 'e2e: FAILED' : 'e2e: passed (screenshots in test-output/)');
process.exit(failed ? 1 : 0);
