// `npm run package`: builds a VSIX for one platform (default: this machine's, e.g. linux-x64).
// Other platforms: `npm run package -- --target darwin-arm64` (likewise win32-x64, win32-arm64, linux-arm64;
// onnxruntime-node has no darwin-x64 binaries; `npm run package:all` builds them all):
// only that platform's onnxruntime binaries go in, and vsce marks the VSIX with the target.
//
// The VSIX is assembled in a staging folder (.cache/vsix-stage) so that the working tree's dist/ stays a
// development build: the inference process is re-bundled with @huggingface/transformers inlined (its image
// helper `sharp` is replaced by a stub: Promptscope reads text only), onnxruntime-node and
// onnxruntime-common stay real packages (in dist/node_modules) because the native binding needs them on disk.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stage = path.join(root, '.cache', 'vsix-stage');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const target = arg('--target') ?? `${process.platform}-${process.arch}`;
const [platform, arch] = target.split('-');
// Budget of a package with every bundled model (seed variants and the long-context model included).
const MAX_BYTES = 100 * 1024 * 1024;

function run(cmd, args, cwd = root) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
}

// 1. Production build of the extension host bundle and the webview (into the stage, not dist/).
rmSync(stage, { recursive: true, force: true });
mkdirSync(path.join(stage, 'dist'), { recursive: true });
const nodeOptions = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, logLevel: 'warning' };
await esbuild.build({
  ...nodeOptions,
  entryPoints: [path.join(root, 'src/extension/extension.ts')],
  outfile: path.join(stage, 'dist/extension.js'),
  external: ['vscode'],
});
const sharpStub = path.join(stage, 'sharp-stub.cjs');
writeFileSync(sharpStub, "module.exports = function sharp() { throw new Error('Images are not supported by Promptscope.'); };\n");
await esbuild.build({
  ...nodeOptions,
  entryPoints: [path.join(root, 'src/runtime/inferenceProcess.ts')],
  outfile: path.join(stage, 'dist/inference.js'),
  external: ['onnxruntime-node', 'onnxruntime-common'],
  alias: { sharp: sharpStub },
});
rmSync(sharpStub);
if (existsSync(path.join(root, 'webview/main.ts'))) {
  await esbuild.build({
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    minify: true,
    logLevel: 'warning',
    entryPoints: [path.join(root, 'webview/main.ts')],
    outfile: path.join(stage, 'dist/webview.js'),
  });
}

// 2. Everything else the allow-list names, copied from the working tree.
const copy = (rel, to = rel) => {
  const from = path.join(root, rel);
  if (existsSync(from)) cpSync(from, path.join(stage, to), { recursive: true });
};
// Runtime packages go to dist/node_modules: vsce --no-dependencies never collects the top-level one.
const runtime = (rel) => copy(`node_modules/${rel}`, `dist/node_modules/${rel}`);
for (const f of ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'LICENSE.txt', '.vscodeignore', 'media', 'models']) copy(f);
rmSync(path.join(stage, 'models', 'build'), { recursive: true, force: true });
runtime('onnxruntime-common/package.json');
runtime('onnxruntime-common/dist/cjs');
runtime('onnxruntime-node/package.json');
runtime('onnxruntime-node/dist');
const binaries = `onnxruntime-node/bin/napi-v6/${platform}/${arch}`;
if (!existsSync(path.join(root, 'node_modules', binaries))) throw new Error(`onnxruntime-node has no binaries for ${target}`);
runtime(binaries);
// macOS: the binding loads @rpath/libonnxruntime.1.dylib; the npm package also carries an identical copy under
// the full version's name (a symlink upstream), which only makes the package larger.
if (platform === 'darwin') {
  const dir = path.join(stage, 'dist', 'node_modules', binaries);
  const loaded = path.join(dir, 'libonnxruntime.1.dylib');
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (/^libonnxruntime\.\d+\.\d+\.\d+\.dylib$/.test(f) && existsSync(loaded) && readFileSync(p).equals(readFileSync(loaded))) rmSync(p);
  }
}
// README images with relative paths (media/screenshots/…) are not in the package and, without a
// `repository` in package.json, vsce cannot rewrite them to absolute URLs (it refuses to package): the
// packaged README leaves them out.
const stagedReadme = path.join(stage, 'README.md');
if (existsSync(stagedReadme) && !JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).repository) {
  const text = readFileSync(stagedReadme, 'utf8');
  writeFileSync(stagedReadme, text.replace(/^!\[[^\]]*\]\((?![a-z][a-z0-9+.-]*:)[^)]*\)\s*\n(\s*\n)?/gim, ''));
}
if (!existsSync(path.join(stage, 'README.md'))) {
  writeFileSync(
    path.join(stage, 'README.md'),
    '# Promptscope\n\nSelect a prompt and run **Promptscope: Explain Selection** to see which tokens drive the model’s answer.\n',
  );
}

// 3. vsce with dependencies off: the allow-list decides what goes in.
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const out = path.join(root, `${pkg.name}-${target}-${pkg.version}.vsix`);
run(
  process.execPath,
  [vsce, 'package', '--no-dependencies', '--target', target, '--out', out],
  stage,
);
const size = statSync(out).size;
console.log(`${path.relative(root, out)}: ${(size / 1024 / 1024).toFixed(1)} MB`);
if (size > MAX_BYTES) {
  console.error(`The VSIX is larger than ${MAX_BYTES / 1024 / 1024} MB.`);
  process.exit(1);
}
