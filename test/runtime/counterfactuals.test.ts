/**
 * Counterfactual edits: every reported edit is rerun independently (the edited ids through a plain onnxruntime
 * session) and must give the reported target score and new top prediction.
 */
import * as assert from 'node:assert/strict';
import { explain } from '../../src/core/explain';
import type { AttributionResult } from '../../src/core/result';
import { ensureGradients, loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { PlainLm } from './plainLm';

function editedIds(result: AttributionResult, tokens: number[], replacement?: number): number[] {
  const ids = result.input.tokens.map((t) => t.id);
  return ids.flatMap((id, i) => (i === tokens[0] && replacement !== undefined ? [replacement] : tokens.includes(i) ? [] : [id]));
}

describe('counterfactual edits on the bundled LM', function () {
  let lm: LoadedModel;
  let plain: PlainLm;
  before(async function () {
    lm = await loadModel('promptscope-tiny-lm');
    plain = await PlainLm.create(lm);
  });

  async function verifyAll(result: AttributionResult): Promise<void> {
    const cf = result.counterfactuals!;
    assert.equal(cf.version, 1);
    assert.ok(cf.edits.length > 0);
    const target = result.target.rows[0].tokenId;
    const topBefore = (await plain.top(result.input.tokens.map((t) => t.id), 1))[0];
    assert.equal(cf.top.tokenId, topBefore.tokenId);
    for (const e of cf.edits) {
      assert.equal(e.original, result.input.text.slice(e.start, e.end));
      assert.equal(e.kind === 'delete', e.replacementId === undefined);
      const ids = editedIds(result, e.tokens, e.replacementId);
      const rows = await plain.logSoftmax(ids);
      const last = rows[ids.length - 1];
      assert.ok(Math.abs(last[target] - e.scoreAfter) < 1e-4, `${JSON.stringify(e.original)} → ${JSON.stringify(e.replacement)}: score ${e.scoreAfter} vs rerun ${last[target]}`);
      assert.ok(Math.abs(e.delta - (e.scoreAfter - result.target.rows[0].score)) < 1e-9);
      const top = (await plain.top(ids, 1))[0];
      assert.equal(e.newTop.tokenId, top.tokenId, `new top after ${JSON.stringify(e.original)} → ${JSON.stringify(e.replacement)}`);
      assert.ok(Math.abs(e.newTop.probability - top.probability) < 1e-4);
      assert.equal(e.flipsTop, top.tokenId !== topBefore.tokenId);
      if (e.replacementId !== undefined) assert.equal(e.replacement, lm.tokenizer.decode([e.replacementId]));
    }
    for (let k = 1; k < cf.edits.length; k++) assert.ok(cf.edits[k - 1].delta <= cf.edits[k].delta, 'best (largest drop) first');
    // A token's score is its best verified edit's drop: never less than any listed edit of that token.
    for (const e of cf.edits) if (e.unit === 'token') assert.ok(result.runs[0].scores[0][e.tokens[0]] >= -e.delta - 1e-12);
  }

  it('every edit is verified, from the model\u2019s own predictions and deletions (no gradients)', async function () {
    const r = await explain({ text: 'The capital of France is', methods: ['counterfactuals'], target: { kind: 'next-token' }, trust: false }, lm);
    assert.ok(!lm.runner.gradients);
    assert.ok(r.counterfactuals!.edits.every((e) => e.source !== 'gradient'));
    await verifyAll(r);
    const flips = r.counterfactuals!.edits.filter((e) => e.flipsTop);
    console.log(`      ${r.counterfactuals!.verified} candidates verified, ${r.counterfactuals!.edits.length} listed, ${flips.length} change the top; best: ${r.counterfactuals!.edits.slice(0, 3).map((e) => `${JSON.stringify(e.original)}→${JSON.stringify(e.replacement)} (${e.newTop.text} ${(100 * e.newTop.probability).toFixed(0)} %)`).join(', ')}`);
    assert.ok(flips.length > 0, 'some single edit should change " Paris"');
  });

  it('adds gradient (HotFlip) candidates when the model has gradients, each verified', async function () {
    const text = 'Alice met Bob in Paris. Later, Alice said hello to';
    const without = await explain({ text, methods: ['counterfactuals'], target: { kind: 'next-token' }, trust: false }, lm);
    const withGrad = await loadModel('promptscope-tiny-lm');
    await ensureGradients(withGrad);
    const r = await explain({ text, methods: ['counterfactuals'], target: { kind: 'next-token' }, trust: false }, withGrad);
    const fromGradient = r.counterfactuals!.edits.filter((e) => e.source === 'gradient').length;
    console.log(`      candidates verified: ${without.counterfactuals!.verified} without gradients, ${r.counterfactuals!.verified} with; ${fromGradient} of ${r.counterfactuals!.edits.length} listed edits come from the gradient estimate`);
    assert.ok(r.counterfactuals!.verified > without.counterfactuals!.verified);
    assert.ok(r.counterfactuals!.edits.some((e) => e.unit === 'word'), 'whole words are edited too');
    await verifyAll(r);
  });
});
