/**
 * The shared-prefix cache kept across runs: least recently used entries go first under the byte cap, and on the
 * bundled LM every batch prefix is a slice of the prompt's own keys and values (no pass of its own), with the
 * scores of prefixes computed by their own passes, and the same scores after an earlier run as without one.
 */
import * as assert from 'node:assert/strict';
import { explain } from '../../src/core/explain';
import { loadModel } from '../../src/runtime/loadedModel';
import type { OnnxRunner } from '../../src/runtime/onnxRunner';
import { PrefixKvCache, type KvValues } from '../../src/runtime/prefixKvCache';

const kv = (floats: number): KvValues => new Map([['past.0.key', new Float32Array(floats)]]);

describe('shared-prefix cache', () => {
  it('keeps the most recently used entries within its byte cap', () => {
    const cache = new PrefixKvCache(3 * 400); // three entries of 100 floats
    const a = kv(100);
    cache.set([1, 2], a);
    cache.set([1, 2, 3], kv(100));
    cache.set([7], kv(100));
    assert.equal(cache.get([1, 2]), a, 'a hit returns the stored values');
    cache.set([8], kv(100)); // evicts the least recently used: [1, 2, 3]
    assert.equal(cache.get([1, 2, 3]), undefined);
    assert.ok(cache.get([1, 2]) && cache.get([7]) && cache.get([8]));
    assert.equal(cache.size, 3);
    const off = new PrefixKvCache(0);
    off.set([1], kv(1));
    assert.equal(off.get([1]), undefined, 'a cap of 0 keeps nothing');
  });

  it('batch prefixes are slices of the prompt\'s keys and values: no prefix passes, the scores of computed prefixes', async function () {
    const text = 'The keeper of the old lighthouse climbed the stairs every evening and lit the lamp before the sun went down. The ships in the bay saw the light and turned away from the';
    const edited = `${text} rocks. The keeper said that the light belongs to the`;
    const warm = await loadModel('promptscope-tiny-lm');
    const cache = (warm.runner as OnnxRunner).prefixCache;
    const req = (t: string) => ({ text: t, methods: ['occlusion'], target: { kind: 'next-token' as const }, trust: false });
    await explain(req(text), warm);
    const hits = cache.hits;
    const again = await explain(req(edited), warm);
    assert.ok(cache.hits > hits, `prefix hits on the re-run: ${cache.hits - hits}`);
    const d = again.runs[0].diagnostics;
    assert.equal(d.forwardPasses, again.input.tokens.filter((t) => !t.special).length, 'one pass per occluded token, none for prefixes');
    const fresh = await loadModel('promptscope-tiny-lm');
    const cold = await explain(req(edited), fresh);
    assert.deepEqual(again.runs[0].scores, cold.runs[0].scores, 'identical scores with and without an earlier run');
    // Independent: with the cache off, every batch prefix is computed by a pass of its own.
    const saved = process.env.PROMPTSCOPE_PREFIX_CACHE_MB;
    process.env.PROMPTSCOPE_PREFIX_CACHE_MB = '0';
    let computed;
    try {
      const off = await loadModel('promptscope-tiny-lm');
      computed = await explain(req(edited), off);
    } finally {
      if (saved === undefined) delete process.env.PROMPTSCOPE_PREFIX_CACHE_MB;
      else process.env.PROMPTSCOPE_PREFIX_CACHE_MB = saved;
    }
    // (the first batch occludes the first token and shares no prefix)
    assert.equal(computed.runs[0].diagnostics.forwardPasses, d.forwardPasses + (computed.runs[0].diagnostics.batches ?? 0) - 1, 'without the cache each later batch computes its prefix');
    const worst = Math.max(...cold.runs[0].scores[0].map((v, i) => Math.abs(v - computed.runs[0].scores[0][i])));
    assert.ok(worst < 1e-5, `sliced vs computed prefixes: ${worst}`);
    console.log(`      ${d.batches} batches, ${d.forwardPasses} passes (with prefixes computed: ${computed.runs[0].diagnostics.forwardPasses}); largest difference ${worst.toExponential(1)}`);
  });

  it('one past buffer per input serves every batch of an occlusion, however long its prefix', async function () {
    const lm = await loadModel('promptscope-tiny-lm');
    const runner = lm.runner as OnnxRunner;
    const scratch = (runner as unknown as { pastScratch: Map<string, Float32Array | Uint16Array> }).pastScratch;
    const seen: Set<Float32Array | Uint16Array>[] = [];
    const score = runner.score.bind(runner);
    runner.score = async (items, signal) => {
      const out = await score(items, signal);
      seen.push(new Set(scratch.values()));
      return out;
    };
    const text = 'The keeper of the old lighthouse climbed the stairs every evening and lit the lamp before the sun went down.';
    const r = await explain({ text, methods: ['occlusion'], target: { kind: 'next-token' }, trust: false, maxTokensPerBatch: 64 }, lm);
    const batches = r.runs[0].diagnostics.batches ?? 0;
    assert.ok(batches >= 4, `batches: ${batches}`);
    // The first batch occludes the first token and feeds no past; every later one a longer prefix than the one before.
    const withPast = seen.filter((s) => s.size > 0);
    assert.ok(withPast.length >= 3, `runs with a past: ${withPast.length} of ${batches}`);
    // Later batches take more items (their suffixes are shorter): the buffers grow at least twofold, seldom.
    const replaced = withPast.filter((s, i) => i > 0 && [...s].some((b) => !withPast[i - 1].has(b))).length;
    assert.ok(replaced <= 2, `buffers replaced in ${replaced} of ${withPast.length} runs`);
  });
});
