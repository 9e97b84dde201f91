/** The built CLI with the attention methods: per-layer probabilities in JSON only with --attention-detail. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseResult } from '../../src/core/result';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');

describe('promptscope CLI: attention methods', function () {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-cli-attn-'));
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120000, env: { ...process.env, XDG_CACHE_HOME: cache } });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: run npm run build first');
  });
  after(() => fs.rmSync(cache, { recursive: true, force: true }));

  it('JSON keeps every layer\'s probabilities only with --attention-detail; the terminal view prints the layer × head summary', function () {
    const plain = cli(['explain', 'The capital of France is', '--method', 'attention,atman', '--json', '--no-trust']);
    assert.equal(plain.code, 0, plain.stderr);
    const a = parseResult(JSON.parse(plain.stdout));
    assert.deepEqual(a.runs.map((r) => r.method), ['attention', 'atman']);
    assert.ok(a.runs.every((r) => r.attention === undefined));
    const detailed = cli(['explain', 'The capital of France is', '--method', 'attention', '--layer', '1', '--json', '--attention-detail', '--no-trust']);
    assert.equal(detailed.code, 0, detailed.stderr);
    const d = parseResult(JSON.parse(detailed.stdout)).runs[0];
    const n = a.input.tokens.length;
    assert.equal(d.attention?.probs.length, 4);
    assert.equal(d.attention?.probs[1][0].length, n);
    assert.deepEqual(d.params, { layer: 1 });
    // the scores are the layer-1 head-mean of the exported row
    const row = d.attention!.rowQueries[0];
    d.scores[0].forEach((v, j) => assert.ok(Math.abs(v - d.attention!.probs[1].reduce((s, h) => s + h[row][j], 0) / 4) < 1e-3));
    const text = cli(['explain', 'The capital of France is', '--method', 'attention-rollout', '--attention-detail', '--no-trust']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /most-attended token from position \d+, per layer/);
    assert.match(text.stdout, /layer 3 +"/);
  });

  it('refuses a layer the model does not have, and a suppression outside [0, 1]', function () {
    const r = cli(['explain', 'The capital of France is', '--method', 'attention', '--layer', '7', '--no-trust']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /4 layers \(0–3\); layer 7 does not exist/);
    const s = cli(['explain', 'x', '--method', 'atman', '--suppression', '1.5']);
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /--suppression needs a number between 0 and 1/);
  });
});
