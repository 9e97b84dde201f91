/**
 * The shared-prefix cache kept across runs: least recently used entries go first under the byte cap, and on the
 * bundled LM a re-run after an edit at the end of the prompt finds the prefixes of its batches again, runs
 * fewer passes, and gives exactly the scores of a fresh runner that never saw the first run.
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

  it('a re-run after an edit at the end reuses prefixes and changes no score', async function () {
    const text = 'The keeper of the old lighthouse climbed the stairs every evening and lit the lamp before the sun went down. The ships in the bay saw the light and turned away from the';
    const edited = `${text} rocks. The keeper said that the light belongs to the`;
    const warm = await loadModel('promptscope-tiny-lm');
    const cache = (warm.runner as OnnxRunner).prefixCache;
    const req = (t: string) => ({ text: t, methods: ['occlusion'], target: { kind: 'next-token' as const }, trust: false });
    await explain(req(text), warm);
    const hits = cache.hits;
    const again = await explain(req(edited), warm);
    assert.ok(cache.hits > hits, `prefix hits on the re-run: ${cache.hits - hits}`);
    const fresh = await loadModel('promptscope-tiny-lm');
    const cold = await explain(req(edited), fresh);
    assert.equal((fresh.runner as OnnxRunner).prefixCache.hits, 0);
    assert.deepEqual(again.runs[0].scores, cold.runs[0].scores, 'identical scores with and without the cache');
    const saved = cold.runs[0].diagnostics.forwardPasses - again.runs[0].diagnostics.forwardPasses;
    assert.equal(saved, cache.hits - hits, 'each hit is one prefix pass not run');
    console.log(`      re-run after an edit at the end: ${cache.hits - hits} of ${cold.runs[0].diagnostics.batches} batch prefixes from the cache, ${again.runs[0].diagnostics.forwardPasses} vs ${cold.runs[0].diagnostics.forwardPasses} forward passes`);
  });
});
