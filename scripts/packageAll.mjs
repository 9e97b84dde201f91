// `npm run package:all`: one VSIX per platform that onnxruntime-node ships binaries for (each with only its
// own platform's binaries, see packageVsix.mjs), then Open VSX's packaging checks on each
// (scripts/openVsxCheck.mjs). Prints a table of the sizes. darwin-x64 is listed and skipped: onnxruntime-node
// 1.30 has no Intel macOS binaries, and a package without them could not run a model.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TARGETS = ['win32-x64', 'win32-arm64', 'linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64'];
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const skipCheck = process.argv.includes('--no-ovsx');

const rows = [];
let failed = false;
for (const target of TARGETS) {
  const [platform, arch] = target.split('-');
  if (!existsSync(path.join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', platform, arch))) {
    rows.push([target, 'not built: onnxruntime-node has no binaries for it', '']);
    continue;
  }
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'packageVsix.mjs'), '--target', target], { cwd: root, stdio: 'inherit' });
  const vsix = path.join(root, `${pkg.name}-${target}-${pkg.version}.vsix`);
  if (r.status !== 0 || !existsSync(vsix)) {
    failed = true;
    rows.push([target, 'FAILED', '']);
    continue;
  }
  let check = 'not run';
  if (!skipCheck) {
    const c = spawnSync(process.execPath, [path.join(root, 'scripts', 'openVsxCheck.mjs'), vsix], { cwd: root, stdio: 'inherit' });
    check = c.status === 0 ? 'passed' : 'FAILED';
    if (c.status !== 0) failed = true;
  }
  rows.push([target, `${(statSync(vsix).size / 1024 / 1024).toFixed(1)} MB`, check]);
}
console.log('\n| target | VSIX size | Open VSX packaging checks |\n| --- | --- | --- |');
for (const [t, size, check] of rows) console.log(`| \`${t}\` | ${size} | ${check} |`);
process.exit(failed ? 1 : 0);
