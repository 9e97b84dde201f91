/**
 * Occlusion batch boundaries stay put when the prompt grows at its end, so a re-run finds the shared prefixes
 * of its batches in the runner's cache: leave-one-out items of prompts of n, n + 1 … n + 4 tokens, planned
 * under the same cap, start most batches at the same occluded token. Every batch keeps to the cap and holds
 * at least half of what the greedy rule (recomputed here) would have put in it.
 */
import * as assert from 'node:assert/strict';
import { planBatches } from '../../src/core/methods/batching';
import type { ForwardItem } from '../../src/core/modelRunner';

/** Leave-one-out with deletion: item i is the prompt without token i. */
function leaveOneOut(n: number): ForwardItem[] {
  const ids = Array.from({ length: n }, (_, i) => 100 + i);
  return ids.map((_, i) => {
    const kept = ids.filter((__, j) => j !== i);
    return { inputIds: kept, queries: [{ position: kept.length - 1, tokenId: 7 }] };
  });
}

/** Index of each batch's first item (its shared prefix is the prompt up to that token). */
function starts(batches: ForwardItem[][]): number[] {
  let i = 0;
  return batches.map((b) => ((i += b.length), i - b.length));
}

/** Padded tokens after the shared prefix, as the cap counts them. */
function cost(batch: ForwardItem[]): number {
  const first = batch[0].inputIds;
  let common = Math.min(...batch.map((b) => b.inputIds.length));
  for (const b of batch) {
    let p = 0;
    while (p < common && b.inputIds[p] === first[p]) p++;
    common = p;
  }
  return batch.length * (Math.max(...batch.map((b) => b.inputIds.length)) - common);
}

describe('occlusion batch boundaries', () => {
  for (const [n, cap, maxItems] of [[241, 4096, 32], [1227, 8192, 128], [600, 4096, 8]] as const) {
    it(`a prompt of ${n} tokens growing by 1–4 keeps most batch starts (cap ${cap}, ≤ ${maxItems} items)`, () => {
      const base = new Set(starts(planBatches(leaveOneOut(n), cap, maxItems)));
      for (let extra = 1; extra <= 4; extra++) {
        const grown = planBatches(leaveOneOut(n + extra), cap, maxItems);
        // Only the items before the old end can share a prefix with the earlier run.
        const before = starts(grown).filter((s) => s < n - 1);
        const kept = before.filter((s) => base.has(s)).length;
        assert.ok(kept >= 0.9 * before.length, `+${extra} tokens: ${kept} of ${before.length} batch starts kept`);
      }
    });
  }

  it('keeps to the cap and to at least half the greedy batch', () => {
    const items = leaveOneOut(300);
    const batches = planBatches(items, 2048, 64);
    assert.equal(batches.flat().length, items.length);
    let start = 0;
    for (const [bi, b] of batches.entries()) {
      assert.ok(b.length === 1 || cost(b) <= 2048, `batch ${bi} over the cap`);
      let greedy = 1;
      while (start + greedy < items.length && greedy < 64 && cost(items.slice(start, start + greedy + 1)) <= 2048) greedy++;
      assert.ok(b.length >= Math.ceil(greedy / 2), `batch ${bi}: ${b.length} items, greedy ${greedy}`);
      start += b.length;
    }
  });
});
