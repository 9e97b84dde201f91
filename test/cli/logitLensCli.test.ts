/**
 * `explain --logit-lens` (the built CLI, the bundled LM): after the last layer the lens gives the model's own
 * prediction — the target's probability and the top tokens of the ordinary forward pass — and each target row
 * of a forced continuation is read at the position that predicts it.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseResult } from '../../src/core/result';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120000 });

describe('promptscope explain --logit-lens', function () {
  it('ends at the model\'s own prediction and shows every layer in the terminal', function () {
    const r = cli(['explain', 'The capital of France is', '--method', 'occlusion', '--no-trust', '--logit-lens', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const result = parseResult(JSON.parse(r.stdout));
    const lens = result.logitLens;
    assert.ok(lens);
    assert.equal(lens.layers, 4);
    assert.equal(lens.rows.length, 1);
    const row = lens.rows[0];
    assert.equal(row.position, result.input.tokens.length - 1);
    assert.deepEqual(row.layers.map((l) => l.layer), [0, 1, 2, 3, 4]);
    const last = row.layers[4];
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
    close(last.probability, result.target.rows[0].probability, 'target probability after the last layer');
    assert.deepEqual(last.top.map((t) => t.tokenId), result.predictions.map((p) => p.tokenId));
    last.top.forEach((t, i) => close(t.probability, result.predictions[i].probability, `top ${i}`));
    assert.ok(row.layers.slice(0, 4).some((l) => Math.abs(l.probability - last.probability) > 1e-3), 'earlier layers differ');

    const text = cli(['explain', 'The capital of France is', '--method', 'occlusion', '--no-trust', '--logit-lens']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /Logit lens, target row 1 \(" Paris"\), position 4/);
    assert.match(text.stdout, /\n {2}4 \(out\) +0\.\d{4} {2}" Paris" 0\.\d{3}/);
  });

  it('reads each forced token at the position that predicts it', function () {
    const r = cli(['explain', 'The capital of France is', '--force', ' Paris and', '--method', 'occlusion', '--no-trust', '--logit-lens', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const result = parseResult(JSON.parse(r.stdout));
    const n = result.input.tokens.length;
    assert.deepEqual(result.logitLens?.rows.map((x) => x.position), result.target.rows.map((_, i) => n - 1 + i));
    result.logitLens?.rows.forEach((x, i) => assert.ok(Math.abs(x.layers[4].probability - result.target.rows[i].probability) <= 1e-5, `row ${i}`));
  });

  it('refuses a classifier with one message', function () {
    const r = cli(['explain', 'A fine film', '--model', 'promptscope-tiny-sentiment', '--method', 'occlusion', '--logit-lens']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /The logit lens reads decoder language models.*Explain without --logit-lens/);
  });
});
