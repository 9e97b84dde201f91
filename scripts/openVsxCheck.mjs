// `node scripts/openVsxCheck.mjs FILE.vsix`: the checks Open VSX's CLI (ovsx) makes before it uploads, run
// offline on a packaged VSIX with ovsx's own code (installed once from npm into ~/.cache/promptscope-ovsx):
//   1. ovsx reads the manifest out of the VSIX and validates it (publisher, name, version);
//   2. ovsx's licence check (a `license` field or a LICENSE file), and the LICENSE file is in the package;
//   3. the package's files, repackaged by the vsce that ovsx bundles (a newer major than the project's),
//      with no warning, give the same file list and target platform: what `ovsx publish` would build.
// What only the registry can check (access token, namespace ownership, its size limit, its signature) needs
// the network and is not run here.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export const OVSX_VERSION = '1.3.0';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cacheDir = process.env.PROMPTSCOPE_OVSX_DIR ?? path.join(os.homedir(), '.cache', 'promptscope-ovsx');
const ovsxManifest = path.join(cacheDir, 'node_modules', 'ovsx', 'package.json');

function ensureOvsx() {
  if (existsSync(ovsxManifest)) return;
  console.log(`[ovsx] installing ovsx@${OVSX_VERSION} into ${cacheDir} (one time)…`);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(path.join(cacheDir, 'package.json'), JSON.stringify({ name: 'promptscope-ovsx-cache', private: true }));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--ignore-scripts', `ovsx@${OVSX_VERSION}`], { cwd: cacheDir, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(ovsxManifest)) throw new Error(`Installing ovsx@${OVSX_VERSION} from npm failed (exit ${r.status}).`);
}

export async function checkForOpenVsx(vsix) {
  ensureOvsx();
  const req = createRequire(ovsxManifest);
  const { readVSIXPackage, readZip } = req('./lib/zip.js');
  const { validateManifest } = req('./lib/util.js');
  const { isLicenseOk } = req('./lib/check-license.js');
  const vsceCli = path.join(path.dirname(req.resolve('@vscode/vsce/package.json')), 'vsce');
  const vsceVersion = req('@vscode/vsce/package.json').version;

  const manifest = await readVSIXPackage(vsix);
  validateManifest(manifest);
  // Entries with their real names (ovsx's readZip lowercases them).
  const yauzl = req('yauzl-promise');
  const entries = new Map();
  const zip = await yauzl.open(vsix);
  try {
    for await (const entry of zip) if (!entry.filename.endsWith('/')) entries.set(entry.filename, Buffer.from(await (await zip.openReadStream(entry)).toArray().then((c) => Buffer.concat(c))));
  } finally {
    await zip.close();
  }
  const files = [...entries.keys()].filter((n) => n.startsWith('extension/'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'promptscope-ovsx-'));
  try {
    for (const name of files) {
      // vsce stores the README and CHANGELOG under lower-case names: give them back the names of the source tree.
      const rel = name.slice('extension/'.length).replace(/^(readme|changelog)\.md$/, (_, b) => `${b.toUpperCase()}.md`);
      const dest = path.join(dir, rel);
      mkdirSync(path.dirname(dest), { recursive: true });
      writeFileSync(dest, entries.get(name));
    }
    // The project's allow-list, as `ovsx publish` run in the package folder would read it.
    copyFileSync(path.join(root, '.vscodeignore'), path.join(dir, '.vscodeignore'));
    if (!(await isLicenseOk(dir, manifest))) throw new Error('ovsx: the extension has no licence (no `license` field and no LICENSE file).');
    if (!files.some((n) => /^extension\/licen[cs]e(\.md|\.txt)?$/i.test(n))) throw new Error('ovsx: the package carries no LICENSE file.');
    const vsixManifest = entries.get('extension.vsixmanifest').toString('utf8');
    const target = /TargetPlatform="([^"]+)"/.exec(vsixManifest)?.[1];
    const out = path.join(dir, '..', `${path.basename(dir)}.vsix`);
    const args = [vsceCli, 'package', '--no-dependencies', '--out', out, ...(target ? ['--target', target] : [])];
    const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
    const said = `${r.stdout}\n${r.stderr}`;
    try {
      if (r.status !== 0) throw new Error(`ovsx's vsce ${vsceVersion} refused the package:\n${said}`);
      if (/warning/i.test(said)) throw new Error(`ovsx's vsce ${vsceVersion} warned:\n${said}`);
      const again = await readZip(out, () => true);
      const repacked = [...again.keys()].filter((n) => n.startsWith('extension/') && !n.endsWith('/')).sort();
      const lower = files.map((f) => f.toLowerCase());
      const missing = lower.filter((f) => !repacked.includes(f));
      const extra = repacked.filter((f) => !lower.includes(f));
      if (missing.length || extra.length) throw new Error(`repackaged file list differs: missing ${missing.join(', ')}; extra ${extra.join(', ')}`);
      const target2 = /TargetPlatform="([^"]+)"/.exec(again.get('extension.vsixmanifest').toString('utf8'))?.[1];
      if (target2 !== target) throw new Error(`repackaged target ${target2} ≠ ${target}`);
    } finally {
      rmSync(out, { force: true });
    }
    return { id: `${manifest.publisher}.${manifest.name}`, version: manifest.version, target, files: files.length, vsceVersion };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const vsix = process.argv[2];
  if (!vsix) {
    console.error('Usage: node scripts/openVsxCheck.mjs FILE.vsix');
    process.exit(2);
  }
  try {
    const r = await checkForOpenVsx(path.resolve(vsix));
    console.log(`ovsx ${OVSX_VERSION} packaging checks passed: ${r.id} ${r.version} (${r.target ?? 'universal'}), ${r.files} files, repackaged with vsce ${r.vsceVersion} without warnings.`);
  } catch (err) {
    console.error(String(err?.message ?? err));
    process.exit(1);
  }
}
