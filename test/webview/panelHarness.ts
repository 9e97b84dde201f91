/**
 * Loads the real panel (the host's HTML shell, dist/webview.js, media/panel.css) in headless Chromium from
 * a fake origin served by request interception — nothing touches the network. The only stand-in is
 * acquireVsCodeApi: it records what the panel posts and keeps its state, as the editor would.
 */
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { renderPanelHtml } from '../../src/extension/panel/panelHtml';
import { THEMES, type ThemeKind } from './themes';

export const ROOT = path.resolve(__dirname, '../..');
export const ORIGIN = 'https://panel.promptscope.test';
export const OUTPUT = path.join(ROOT, 'test-output');

/** Same options as scripts/build.mjs uses for the webview bundle. */
export async function buildWebview(): Promise<void> {
  await esbuild.build({
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: true,
    logLevel: 'warning',
    entryPoints: [path.join(ROOT, 'webview/main.ts')],
    outfile: path.join(ROOT, 'dist/webview.js'),
  });
  mkdirSync(OUTPUT, { recursive: true });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface PanelPage {
  page: Page;
  /** Messages the panel posted to the host, in order. */
  posted(): Promise<Array<Record<string, unknown>>>;
  /** Post a message as the host would. */
  send(message: unknown): Promise<void>;
  state(): Promise<unknown>;
  /** CSP violations, dialogs (alert from injected markup would show here), requests that left the origin, page errors. */
  problems: string[];
}

const CONTENT_TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.map': 'application/json' };

export async function openPanel(browser: Browser, opts: { theme?: ThemeKind; state?: unknown; width?: number; height?: number } = {}): Promise<PanelPage> {
  const page = await browser.newPage({ viewport: { width: opts.width ?? 900, height: opts.height ?? 1100 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  // Anything not on the panel's origin is a failure (the panel loads no remote content).
  await page.route('**/*', (route) => {
    problems.push(`request left the origin: ${route.request().url()}`);
    return route.abort();
  });
  const nonce = 'dGVzdG5vbmNlMTIzNDU2Nzg=';
  const styleNonce = 'c3R5bGVub25jZTEyMzQ1Njc=';
  await page.route(`${ORIGIN}/**`, (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/index.html') {
      const html = renderPanelHtml({ cspSource: ORIGIN, nonce, styleNonce, scriptUri: `${ORIGIN}/dist/webview.js`, styleUri: `${ORIGIN}/media/panel.css` });
      return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    }
    const file = path.join(ROOT, path.normalize(url.pathname));
    if (!file.startsWith(path.join(ROOT, 'dist')) && !file.startsWith(path.join(ROOT, 'media'))) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ status: 200, contentType: CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', body: readFileSync(file) });
  });
  // A string, not a function: the test runner's transpiler may wrap named functions in helpers the page lacks.
  await page.addInitScript(`(() => {
    const posted = [];
    let state = ${JSON.stringify(opts.state ?? null)} ?? undefined;
    let acquired = false;
    window.__posted = posted;
    window.__getState = () => state;
    window.__csp = [];
    window.acquireVsCodeApi = () => {
      if (acquired) throw new Error('acquireVsCodeApi called twice');
      acquired = true;
      return {
        postMessage: (m) => posted.push(structuredClone(m)), // structured clone, as the real channel does
        getState: () => state,
        setState: (s) => { state = structuredClone(s); },
      };
    };
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  })();`);
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForFunction(() => customElements.get('vscode-dropdown') !== undefined);
  await applyTheme(page, opts.theme ?? 'dark');
  return {
    page,
    posted: () => page.evaluate(() => (window as unknown as { __posted: Array<Record<string, unknown>> }).__posted),
    send: (message) => page.evaluate((m) => window.postMessage(m, '*'), message),
    state: () => page.evaluate(() => (window as unknown as { __getState(): unknown }).__getState()),
    problems,
  };
}

/** What the editor does on a theme change: variables on <html>, kind and class on <body>. */
export async function applyTheme(page: Page, kind: ThemeKind): Promise<void> {
  const theme = THEMES[kind];
  await page.evaluate(({ bodyClass, vars }) => {
    const html = document.documentElement;
    html.removeAttribute('style');
    for (const [k, v] of Object.entries(vars)) html.style.setProperty(k, v);
    document.body.setAttribute('data-vscode-theme-kind', bodyClass);
    document.body.className = bodyClass;
  }, theme);
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => ((window as unknown as { __csp?: string[] }).__csp ?? []).slice());
}

/** Resolve when the panel has posted a message of this type (count: how many in total). */
export async function waitForPosted(page: Page, type: string, count = 1): Promise<void> {
  await page.waitForFunction(
    ({ type, count }) => (window as unknown as { __posted: Array<{ type: string }> }).__posted.filter((m) => m.type === type).length >= count,
    { type, count },
  );
}
