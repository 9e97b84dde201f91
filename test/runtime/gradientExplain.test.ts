/** Gradient methods through the engine: every target kind, on the bundled models, with honest diagnostics. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { explain } from '../../src/core/explain';
import { ensureGradients, loadModel, type LoadedModel } from '../../src/runtime/loadedModel';

describe('gradient methods through the engine', function () {
  let lm: LoadedModel;
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-grad-'));
  before(async function () {
    lm = await loadModel('promptscope-tiny-lm');
    await ensureGradients(lm, cache);
  });

  it('integrated gradients: one row per generated token, whose completeness gap closes as steps grow', async function () {
    const req = { text: 'The capital of France is', methods: ['integrated-gradients'], target: { kind: 'generate' as const, tokens: 2 } };
    const coarse = await explain({ ...req, params: { steps: 16 } }, lm);
    const fine = await explain({ ...req, params: { steps: 256 } }, lm);
    const run = fine.runs[0];
    assert.equal(run.scores.length, 2);
    // Per row: f(x) and f(x') (whose gradients are the endpoints) and the 255 interior nodes of the graded rule.
    assert.equal(run.diagnostics.backwardPasses, 2 * 257);
    assert.deepEqual(run.diagnostics.quadratureSteps, [256, 256], 'the rule the scores come from');
    run.diagnostics.completenessGap!.forEach((gap, r) => {
      assert.ok(gap < 0.01, `gap ${gap} at 256 steps`);
      assert.ok(gap < coarse.runs[0].diagnostics.completenessGap![r], 'more steps close the gap');
    });
  });

  it('integrated gradients report the refined rule: each node is evaluated once, 2 + quadratureSteps − 1 passes, within maxSteps', async function () {
    for (const rule of ['adaptive', 'graded-clenshaw-curtis']) {
      const r = await explain({ text: 'The capital of France is', methods: ['integrated-gradients'], target: { kind: 'next-token' }, trust: false, params: { steps: 1, maxSteps: 64, igRule: rule as 'adaptive' } }, lm);
      const d = r.runs[0].diagnostics;
      const last = d.quadratureSteps![0];
      assert.ok(last <= 64, `${rule}: ${last} intervals`);
      assert.equal(d.backwardPasses, 2 + last - 1, rule);
      assert.ok(last === 64 || d.relativeCompletenessGap![0] <= 0.01, 'refinement stops only at the gap target or the limit');
    }
  });

  it('single-token contrast: gradient × input equals the difference of the two one-token explanations', async function () {
    const text = 'The capital of France is';
    const contrast = await explain({ text, methods: ['gradient-x-input'], target: { kind: 'contrastive', text: ' Paris', foil: ' London' } }, lm);
    const a = await explain({ text, methods: ['gradient-x-input'], target: { kind: 'token', text: ' Paris' } }, lm);
    const b = await explain({ text, methods: ['gradient-x-input'], target: { kind: 'token', text: ' London' } }, lm);
    contrast.runs[0].scores[0].forEach((s, i) => assert.ok(Math.abs(s - (a.runs[0].scores[0][i] - b.runs[0].scores[0][i])) < 1e-4));
    assert.ok(Math.abs(contrast.target.rows[0].score - (a.target.rows[0].score - b.target.rows[0].score)) < 1e-4);
  });

  it('SmoothGrad is reproducible for a seed and reports it', async function () {
    const req = { text: 'Alice met Bob in Paris.', methods: ['smoothgrad'], params: { seed: 7, samples: 8 }, target: { kind: 'next-token' as const } };
    const x = await explain(req, lm);
    const y = await explain(req, lm);
    assert.deepEqual(x.runs[0].scores, y.runs[0].scores);
    assert.equal(x.runs[0].diagnostics.seed, 7);
    const z = await explain({ ...req, params: { seed: 8, samples: 8 } }, lm);
    assert.notDeepEqual(x.runs[0].scores, z.runs[0].scores);
  });

  it('classifier: gradient saliency of the predicted label scores every token', async function () {
    const clf = await loadModel('promptscope-tiny-sentiment');
    await ensureGradients(clf, cache);
    const r = await explain({ text: 'The food was not good at all.', methods: ['gradient', 'occlusion'], target: { kind: 'class' } }, clf);
    assert.equal(r.runs.length, 2);
    const visible = r.input.tokens.filter((t) => !t.special);
    assert.ok(visible.every((t) => r.runs[0].scores[0][t.index] > 0), 'an L2 norm is positive for every real token');
    assert.ok(r.model.kind === 'sequence-classifier' && r.target.rows[0].text.length > 0);
  });
});
