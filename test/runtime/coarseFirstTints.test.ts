/**
 * How soon coarse-to-fine shows its first tints, on the bundled LM: the coarse level streams after each batch,
 * its cheapest batches (the prompt's end, short suffixes after a shared prefix) first, its other spans pending;
 * every span shown is an exact occlusion (recomputed here by one plain runner.score call per span); running the
 * batches cheapest first gives the very numbers running them in order does; and a next-token target costs no
 * pass besides the one that lists the top tokens.
 */
import * as assert from 'node:assert/strict';
import { explain } from '../../src/core/explain';
import { scoreInBatches } from '../../src/core/methods/batching';
import type { ForwardItem } from '../../src/core/modelRunner';
import type { AttributionResult } from '../../src/core/result';
import { loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { spanOcclusion } from './spanOcclusion';

/** Eight sentences in one paragraph: the coarse level is the sentences. */
const PROMPT = 'Alice lives in Paris. Bob lives in Rome. The sun is warm. The market opens at seven. Farmers sell bread there. Bob likes the river. Alice reads books. She said that the capital of France is';

describe('coarse-to-fine first tints on the bundled LM', function () {
  let lm: LoadedModel;
  let prev: string | undefined;
  before(async function () {
    lm = await loadModel('promptscope-tiny-lm');
    // Four occlusions per run: the eight sentences take two runs.
    prev = process.env.PROMPTSCOPE_ITEMS_PER_BATCH;
    process.env.PROMPTSCOPE_ITEMS_PER_BATCH = '4';
  });
  after(() => {
    if (prev === undefined) delete process.env.PROMPTSCOPE_ITEMS_PER_BATCH;
    else process.env.PROMPTSCOPE_ITEMS_PER_BATCH = prev;
  });

  const occlusionOf = (result: AttributionResult, span: number[]) => spanOcclusion(lm.runner, result, span);

  it('streams the end of the prompt before the coarse level completes, the rest pending, every shown span exact', async function () {
    const partials: AttributionResult[] = [];
    const final = await explain({ text: PROMPT, methods: ['coarse-to-fine'], params: { passBudget: 8 }, target: { kind: 'next-token' }, trust: false }, lm, { onPartial: (r) => partials.push(r) });
    assert.ok(partials.length >= 1);
    const first = partials[0];
    const p = first.partial!;
    const levels = first.runs[0].diagnostics.spanLevels!;
    const scores = first.runs[0].scores[0];
    const visible = first.input.tokens.filter((t) => !t.special).map((t) => t.index);
    const pending = new Set(p.pending ?? []);
    const shown = visible.filter((t) => !pending.has(t));
    assert.equal(p.unit, 'sentence');
    assert.ok(pending.size > 0 && shown.length > 0, `${shown.length} tokens shown, ${pending.size} pending`);
    assert.ok(p.passes < final.runs[0].diagnostics.occlusions!, `first update after ${p.passes} of the coarse level's ${final.runs[0].diagnostics.occlusions} passes`);
    // The cheapest run is the last sentences': everything shown lies after everything pending.
    assert.ok(Math.min(...shown) > Math.max(...pending), 'the first tints cover the end of the prompt');
    for (const t of pending) {
      assert.equal(levels[t], null, `pending token ${t} has no level`);
      assert.equal(scores[t], 0);
    }
    // Shown tokens: whole sentences, each sharing one score that is the sentence's exact occlusion.
    const spans = new Map<number, number[]>();
    for (const t of shown) {
      assert.equal(levels[t], 'sentence');
      spans.set(scores[t], [...(spans.get(scores[t]) ?? []), t]);
    }
    assert.equal(spans.size, p.passes, 'one span per pass');
    for (const span of spans.values()) {
      const effect = span.reduce((s, u) => s + scores[u], 0);
      const expected = await occlusionOf(first, span);
      assert.ok(Math.abs(effect - expected) < 1e-4, `${effect} vs ${expected}`);
      // Shown once, kept: the final result has the same number for these tokens.
      for (const u of span) assert.equal(final.runs[0].scores[0][u], scores[u]);
    }
  });

  it('running batches cheapest first gives the same numbers as in order', async function () {
    const r = await explain({ text: PROMPT, methods: ['occlusion'], target: { kind: 'next-token' }, trust: false }, lm);
    const ids = r.input.tokens.map((t) => t.id);
    const target = r.target.rows[0].tokenId;
    const items: ForwardItem[] = ids.map((_, i) => {
      const kept = ids.filter((__, j) => j !== i);
      return { inputIds: kept, queries: [{ position: kept.length - 1, tokenId: target }] };
    });
    const seen: number[] = [];
    const inOrder = await scoreInBatches(lm.runner, items, 4096);
    const cheapest = await scoreInBatches(lm.runner, items, 4096, undefined, undefined, (values) => seen.push(values.findIndex((v) => v !== undefined)), 'cheapest-first');
    assert.deepEqual(cheapest.values, inOrder.values);
    assert.ok(seen[0] > 0, 'the first run is not the front batch');
  });

  it('a next-token target costs no pass besides the top-token list, and scores as a plain pass does', async function () {
    const f0 = lm.runner.forwardCount;
    const r = await explain({ text: PROMPT, methods: ['occlusion'], target: { kind: 'next-token' }, trust: false }, lm);
    assert.equal(lm.runner.forwardCount - f0, r.runs[0].diagnostics.forwardPasses + 1);
    const ids = r.input.tokens.map((t) => t.id);
    const [[plain]] = await lm.runner.score([{ inputIds: ids, queries: [{ position: ids.length - 1, tokenId: r.target.rows[0].tokenId }] }]);
    assert.equal(r.target.rows[0].score, plain.logProb);
    assert.equal(r.target.rows[0].logProb, plain.logProb);
  });
});
