/**
 * Forward runs sized to a memory budget (ModelInfo.batchTokens): every occlusion run's padded tokens, shared prefix
 * included, stay within the budget (or four of the longest sequences), there are more runs, and the scores are those
 * of the unbudgeted runs.
 */
import * as assert from 'node:assert/strict';
import { explain } from '../../src/core/explain';
import { MIN_ITEMS_IN_BUDGET } from '../../src/core/methods/batching';
import type { ForwardItem } from '../../src/core/modelRunner';
import { batchTokenBudget } from '../../src/runtime/batchBudget';
import { loadModel } from '../../src/runtime/loadedModel';

describe('forward runs within a memory budget', function () {
  it('large decoders get a budget from their shape, small ones none', () => {
    const llama = { num_hidden_layers: 30, hidden_size: 576, num_attention_heads: 9, num_key_value_heads: 3, head_dim: 64, intermediate_size: 1536 };
    assert.equal(batchTokenBudget(llama, 10 * 2 ** 20), undefined);
    const a = batchTokenBudget(llama, 500e6)!;
    // Twice the weights, twice the tokens; more layers, fewer.
    assert.ok(Math.abs(batchTokenBudget(llama, 1000e6)! - 2 * a) <= 1, `${batchTokenBudget(llama, 1000e6)} vs 2 × ${a}`);
    assert.ok(batchTokenBudget({ ...llama, num_hidden_layers: 60 }, 500e6)! < a);
    assert.equal(batchTokenBudget({ hidden_size: 576 }, 500e6), undefined, 'no layer count: no estimate');
  });

  it('occlusion on the bundled LM with a small budget: runs within it, more of them, the same scores', async function () {
    const text = 'The keeper of the old lighthouse climbed the stairs every evening and lit the lamp before the sun went down.';
    const req = { text, methods: ['occlusion'], target: { kind: 'next-token' as const }, trust: false };
    const free = await loadModel('promptscope-tiny-lm');
    const plain = await explain(req, free);
    const lm = await loadModel('promptscope-tiny-lm');
    const budget = 24;
    lm.runner.info.batchTokens = budget;
    const runs: ForwardItem[][] = [];
    const score = lm.runner.score.bind(lm.runner);
    lm.runner.score = (items, signal) => (runs.push(items), score(items, signal));
    const budgeted = await explain(req, lm);
    const longest = budgeted.input.tokens.length;
    const occlusionRuns = runs.filter((r) => r.length > 1 || r[0].inputIds.length < longest);
    assert.ok(occlusionRuns.length > 0);
    // Padded tokens of each run, the shared prefix included.
    for (const r of occlusionRuns) {
      const padded = r.length * Math.max(...r.map((i) => i.inputIds.length));
      assert.ok(padded <= Math.max(budget, MIN_ITEMS_IN_BUDGET * longest), `a run of ${r.length} items has ${padded} padded tokens`);
    }
    assert.ok(budgeted.runs[0].diagnostics.batches! > plain.runs[0].diagnostics.batches!, `${budgeted.runs[0].diagnostics.batches} vs ${plain.runs[0].diagnostics.batches} runs`);
    const a = budgeted.runs[0].scores[0], b = plain.runs[0].scores[0];
    const top = Math.max(...b.map(Math.abs));
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-5 * top, `token ${i}: ${v} vs ${b[i]}`));
  });
});
