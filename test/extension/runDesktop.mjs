// Runs the extension-host suite in desktop VS Code through @vscode/test-electron (it downloads VS Code,
// so it needs access to update.code.visualstudio.com). Where that is not reachable, use
// `npm run test:extension`, which runs the same suite inside code-server.
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSuite } from './buildSuite.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const results = path.join(root, 'test-output', 'extension-tests.json');
const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
const suite = await buildSuite();
const workspace = mkdtempSync(path.join(os.tmpdir(), 'promptscope-ws-'));
cpSync(path.join(root, 'samples'), workspace, { recursive: true });
rmSync(results, { force: true });
let code = 0;
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: suite,
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { PROMPTSCOPE_TEST_RESULTS: results },
  });
} catch (err) {
  console.error(String(err));
  code = 1;
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  console.log(`${r.passed} passing, ${r.failed} failing`);
  if (r.failed > 0) code = 1;
}
process.exit(code);
