/** The built CLI with the perturbation methods: flags reach the methods, diagnostics and edits are printed. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseResult } from '../../src/core/result';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('promptscope CLI: perturbation methods and counterfactual edits', function () {
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: run npm run build first');
  });

  it('lists every perturbation method', function () {
    const r = cli(['--list-methods']);
    for (const m of ['shapley-sampling', 'kernel-shap', 'lime', 'reagent', 'counterfactuals']) assert.match(r.stdout, new RegExp(`^${m}\\s+\\S`, 'm'));
  });

  it('passes --features, --samples and --seed and reports samples, seed and standard errors', function () {
    const text = 'Alice met Bob in Paris. Later, Alice said hello to';
    const r = cli(['explain', text, '--method', 'kernel-shap,lime,shapley-sampling,reagent', '--features', 'sentence', '--samples', '6', '--seed', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = parseResult(JSON.parse(r.stdout));
    for (const run of result.runs) {
      assert.equal(run.params.features, 'sentence', run.method);
      assert.equal(run.diagnostics.seed, 4, run.method);
      assert.ok(run.diagnostics.samplingError?.[0].length === result.input.tokens.length, run.method);
    }
    assert.ok(result.runs[1].diagnostics.fitR2!.length === 1);
    const human = cli(['explain', text, '--method', 'lime', '--features', 'word', '--samples', '40']);
    assert.match(human.stdout, /40 samples, standard error up to [\d.e-]+, fit R² -?\d\.\d{3}/);
  });

  it('prints verified counterfactual edits, and the JSON carries them in a versioned field', function () {
    const r = cli(['explain', 'The capital of France is', '--method', 'counterfactuals']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Counterfactual edits for " Paris" \(each verified by a forward pass; \d+ tried\):/);
    assert.match(r.stdout, / 1\. (Replace '.+' with '.+'|Delete '.+') → '.*' \(\d+(\.\d)? %\); target score −\d/);
    const json = parseResult(JSON.parse(cli(['explain', 'The capital of France is', '--method', 'counterfactuals', '--json']).stdout));
    assert.equal(json.counterfactuals!.version, 1);
    assert.ok(json.counterfactuals!.edits.length > 0);
  });

  it('rejects an unknown feature unit with one clear message', function () {
    const r = cli(['explain', 'Hello', '--method', 'lime', '--features', 'paragraph']);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim(), 'promptscope: Unknown feature unit "paragraph": use token, word, line or sentence.');
  });
});
