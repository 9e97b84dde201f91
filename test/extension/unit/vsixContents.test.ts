/**
 * What the VSIX carries: `vsce ls` applies .vscodeignore (the allow-list scripts/packageVsix.mjs packages
 * with) to this tree. Every listed file must match the allow-list below, nothing from the sources, tests,
 * scripts, model build folders or README screenshots may slip in, and everything the manifest points at
 * (entry point, icon, walkthrough images) must be there.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

const ALLOWED: RegExp[] = [
  /^(package\.json|README\.md|CHANGELOG\.md|LICENSE)$/,
  /^media\/(icon\.png|panel-icon\.svg|panel\.css)$/,
  /^media\/walkthrough\/[\w-]+\.png$/,
  /^dist\/(extension|inference|webview)\.js$/,
  /^dist\/node_modules\/onnxruntime-(node|common)\/package\.json$/,
  /^dist\/node_modules\/onnxruntime-node\/(dist\/[\w.-]+\.js|bin\/napi-v6\/[\w-]+\/[\w-]+\/[\w.+-]+)$/,
  /^dist\/node_modules\/onnxruntime-common\/dist\/cjs\/[\w/.-]+\.(js|json)$/,
  /^models\/[\w.-]+\/(seeds\/[\w.-]+\/)?(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|vocab\.txt|onnx\/[\w.-]+\.onnx(_data)?)$/,
];
const FORBIDDEN = [/^src\//, /^test\//, /^scripts\//, /^models\/[^/]+\/build\//, /^models\/build\//, /screenshots\//, /^node_modules\//, /\.map$/, /^\.cache\//];

describe('VSIX contents', function () {
  this.timeout(60000);
  let files: string[];
  before(function () {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/@vscode/vsce/vsce'), 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    files = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  });

  it('lists only allow-listed files', () => {
    assert.ok(files.length > 5, files.join('\n'));
    assert.deepEqual(files.filter((f) => !ALLOWED.some((re) => re.test(f))), []);
    assert.deepEqual(files.filter((f) => FORBIDDEN.some((re) => re.test(f))), []);
  });

  it('carries what the manifest points at', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      main: string; icon: string; license: string;
      contributes: { walkthroughs?: { steps: { media: { image: string | Record<string, string> } }[] }[] };
    };
    const images = (pkg.contributes.walkthroughs ?? []).flatMap((w) => w.steps.flatMap((s) => (typeof s.media.image === 'string' ? [s.media.image] : Object.values(s.media.image))));
    assert.ok(images.length >= 5, 'the walkthrough has images');
    for (const f of ['package.json', 'LICENSE', 'CHANGELOG.md', 'README.md', pkg.main.replace(/^\.\//, ''), pkg.icon, ...images]) assert.ok(files.includes(f), `${f} is packaged`);
    assert.match(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'), new RegExp(`^${pkg.license} License`));
  });
});
