/**
 * The layer methods and GradientSHAP from the built CLI (the bundled LM): --list-methods names them, --layer takes
 * an index, middle or last (and --layer-input), --json carries the sweep, and a layer that does not exist is one
 * clear message.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from '../../src/cli/args';
import { parseResult } from '../../src/core/result';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120000 });

describe('promptscope explain with layer methods', function () {
  it('parses --layer as an index, middle or last, and --layer-input / --sweep-layers', () => {
    assert.deepEqual(parseArgs(['x', '--layer', '2']).params, { layer: 2 });
    assert.deepEqual(parseArgs(['x', '--layer', 'middle']).params, { layerPick: 'middle' });
    assert.deepEqual(parseArgs(['x', '--layer', 'last', '--layer-input', '--sweep-layers']).params, { layerPick: 'last', layerInput: true, sweepLayers: true });
    assert.throws(() => parseArgs(['x', '--layer', 'deep']), /--layer needs a whole number ≥ 0 \(got "deep"\)/);
  });

  it('lists the new methods and explains at the last block with the sweep in the JSON', () => {
    const list = cli(['--list-methods']);
    assert.equal(list.status, 0, list.stderr);
    for (const m of ['gradient-shap', 'layer-gradient-x-activation', 'layer-integrated-gradients']) assert.match(list.stdout, new RegExp(m));
    const r = cli(['explain', 'The capital of France is', '--method', 'layer-gradient-x-activation,layer-integrated-gradients', '--layer', 'last', '--no-trust', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const result = parseResult(JSON.parse(r.stdout));
    const [gxa, lig] = result.runs;
    assert.deepEqual(gxa.params, { layer: 3 });
    assert.deepEqual(gxa.layerSweep?.streams, [0, 1, 2, 3, 4]);
    const n = result.input.tokens.length;
    // At the output of the last block only the predicting position reaches the logits.
    assert.ok(gxa.scores[0].slice(0, n - 1).every((s) => s === 0) && gxa.scores[0][n - 1] !== 0, JSON.stringify(gxa.scores[0]));
    assert.ok(lig.diagnostics.relativeCompletenessGap![0] <= 0.01);
  });

  it('refuses a block the model does not have, naming the range', () => {
    const r = cli(['explain', 'The capital of France is', '--method', 'layer-gradient-x-activation', '--layer', '7', '--no-trust']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Layer 7 does not exist: this model has 4 blocks \(0–3, or middle \/ last\)/);
  });
});
