// `npm run test:extension`: runs the extension-host suite inside code-server's remote extension host.
// Installs code-server into the cache on first use, builds the extension and the suite, opens the workbench
// in headless Chromium with extensionDevelopmentPath + extensionTestsPath, and waits for the suite's
// own results file. Exit code 0 only when every test passed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSuite } from '../test/extension/buildSuite.mjs';
import { launchBrowser, workbenchUrl } from './codeServerBrowser.mjs';
import { ensureCodeServer, startCodeServer } from './codeServer.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'test-output');
const results = path.join(outDir, 'extension-tests.json');
const timeoutMs = Number(process.env.PROMPTSCOPE_TEST_TIMEOUT_MS ?? 10 * 60_000);

ensureCodeServer();
if (!process.argv.includes('--no-build')) {
  const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const suite = await buildSuite();
mkdirSync(outDir, { recursive: true });
rmSync(results, { force: true });

// One pass: a workbench on a copy of samples/ (tests open and edit documents, the repository never changes).
// The second pass opens an untrusted copy whose .vscode/settings.json points promptscope.model at a model
// folder, with workspace trust on, and runs only the Restricted Mode tests.
async function runPass({ name, trust, workspaceSettings, env = {} }) {
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'promptscope-ws-'));
  cpSync(path.join(root, 'samples'), workspace, { recursive: true });
  if (workspaceSettings) {
    mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
    writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify(workspaceSettings, null, 2));
  }
  const userData = mkdtempSync(path.join(os.tmpdir(), 'promptscope-cs-user-'));
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': trust,
      'security.workspace.trust.startupPrompt': 'never',
      'security.workspace.trust.banner': 'never',
      'extensions.autoCheckUpdates': false,
      'promptscope.method': 'occlusion',
    }),
  );
  rmSync(results, { force: true });
  const server = await startCodeServer({ userDataDir: userData, workspaceTrust: trust, env: { PROMPTSCOPE_TEST_RESULTS: results, ...env } });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => console.error('[page error]', e.message));
    const url = workbenchUrl(server.url, { folder: workspace, extensionDevelopmentPath: root, extensionTestsPath: suite.replace(/\.js$/, '') });
    console.log(`running the extension-host suite (${name}) in code-server: ${url}`);
    await page.goto(url);
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(results)) {
      if (Date.now() > deadline) throw new Error(`no results after ${timeoutMs / 1000} s; server log:\n${server.logs().slice(-4000)}`);
      if (server.process.exitCode !== null) throw new Error(`code-server exited:\n${server.logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await page.screenshot({ path: path.join(outDir, `extension-tests-${name}-final.png`) }).catch(() => {});
    const report = JSON.parse(readFileSync(results, 'utf8'));
    cpSync(results, path.join(outDir, `extension-tests-${name}.json`));
    return report;
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
    rmSync(userData, { recursive: true, force: true });
  }
}

let code = 1;
try {
  const restrictedModel = path.join(root, 'models', 'promptscope-tiny-sentiment');
  const passes = [
    { name: 'trusted', trust: false },
    { name: 'restricted', trust: true, workspaceSettings: { 'promptscope.model': restrictedModel }, env: { PROMPTSCOPE_RESTRICTED_MODEL: restrictedModel, PROMPTSCOPE_TEST_GREP: 'Restricted Mode' } },
  ];
  let passed = 0, failed = 0, pending = 0;
  // --pass NAME runs one pass only (while working on one area).
  const only = process.argv.includes('--pass') ? process.argv[process.argv.indexOf('--pass') + 1] : undefined;
  for (const pass of passes.filter((p) => !only || p.name === only)) {
    const report = await runPass(pass);
    console.log(`[${pass.name}]`);
    for (const t of report.tests) {
      if (pass.name !== 'trusted' && t.state === 'pending') continue;
      console.log(`${t.state === 'passed' ? '  ✓' : t.state === 'failed' ? '  ✗' : '  -'} ${t.title}${t.durationMs !== undefined ? ` (${t.durationMs} ms)` : ''}`);
      if (t.error) console.log(t.error.split('\n').map((l) => '      ' + l).join('\n'));
    }
    passed += report.passed;
    failed += report.failed;
    if (pass.name === 'trusted') pending += report.pending;
    if (report.passed === 0) failed += 1;
  }
  console.log(`\n${passed} passing, ${failed} failing, ${pending} pending (results: ${path.relative(root, outDir)}/extension-tests-*.json)`);
  code = failed === 0 && passed > 0 ? 0 : 1;
} catch (err) {
  console.error(String(err?.stack ?? err));
  code = 1;
}
process.exit(code);
