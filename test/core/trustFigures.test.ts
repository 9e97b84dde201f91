/** Pure trust helpers: rank correlation, top-k overlap, rankings, and the hover / CLI text of a report. */
import * as assert from 'node:assert/strict';
import { averageRanks, spearman, topKOverlap } from '../../src/core/trust/agreement';
import { randomOrder, rankByScore, topCount } from '../../src/core/trust/ranking';
import { trustHeadline, trustLines } from '../../src/core/trust/trustText';
import { TRUST_VERSION, type RowFaithfulness, type TrustReport } from '../../src/core/trust/trustReport';
import type { AttributionResult } from '../../src/core/result';

describe('trust helpers', () => {
  it('Spearman ρ: ±1 for monotone relations, average ranks for ties, undefined for a constant side', () => {
    assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 400]), 1);
    assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
    assert.deepEqual(averageRanks([5, 1, 5, 2]), [3.5, 1, 3.5, 2]);
    // Hand-computed: ranks a = [1, 2, 3, 4, 5], b = [2, 1, 4, 3, 5] → 1 − 6·Σd²/(n(n²−1)) = 1 − 6·4/120 = 0.8.
    assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])! - 0.8) < 1e-12);
    assert.equal(spearman([1, 1, 1], [1, 2, 3]), undefined);
  });

  it('top-k overlap counts shared top tokens', () => {
    assert.equal(topKOverlap([5, 4, 3, 2, 1], [1, 2, 3, 4, 5], 2), 0);
    assert.equal(topKOverlap([5, 4, 3, 2, 1], [4, 5, 0, 0, 0], 2), 1);
    assert.equal(topKOverlap([5, 4, 3, 2, 1], [5, 0, 4.5, 0, 0], 2), 0.5);
  });

  it('rankings: descending with stable ties, seeded random permutations, rounded-up counts', () => {
    assert.deepEqual(rankByScore([0.1, 0.5, 0.5, -1], [0, 1, 2, 3]), [1, 2, 0, 3]);
    const a = randomOrder([1, 2, 3, 4, 5, 6], 3);
    assert.deepEqual(a, randomOrder([1, 2, 3, 4, 5, 6], 3));
    assert.notDeepEqual(a, randomOrder([1, 2, 3, 4, 5, 6], 4));
    assert.deepEqual([...a].sort(), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([0.1, 0.2, 0.3, 1].map((f) => topCount(f, 5)), [1, 1, 2, 5]);
    assert.equal(topCount(0.3, 10), 3);
  });

  it('hover headline and CLI lines quote the report', () => {
    const row = (c: number[]): RowFaithfulness => ({ row: 0, removed: [1, 1, 2, 2, 3, 3, 4, 4, 5, 5], deletion: [0, ...c.map((x) => -x)], comprehensiveness: c, sufficiency: c.map((x) => x / 2), aopcComprehensiveness: 2, aopcSufficiency: 1 });
    const c = [3.14, 3.14, 4, 4, 5, 5, 5, 5, 6, 6];
    const r = [0.4, 0.42, 1, 1, 2, 2, 3, 3, 6, 6];
    const trust: TrustReport = {
      version: TRUST_VERSION, measure: 'm', baseline: 'delete', fractions: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], tokens: 5, seed: 0,
      random: { orders: 4, rows: [row(r)] },
      methods: [{ method: 'occlusion', rows: [row(c)], vsRandom: [{ comprehensiveness: 2.5, sufficiency: 0.5 }] }],
      agreement: [], soft: { available: false, reason: 'no embeddings' }, forwardPasses: 30, elapsedMs: 12,
    };
    const result = { trust } as unknown as AttributionResult;
    assert.equal(trustHeadline(result, 'occlusion'), 'removing the top 20 % (1 of 5 tokens) drops log p by 3.1, random 0.42');
    assert.equal(trustHeadline(result, 'smoothgrad'), undefined);
    const lines = trustLines(trust).join('\n');
    assert.match(lines, /occlusion\s+2\.000\s+2\.5×\s+1\.000\s+0\.5×/);
    assert.match(lines, /Soft-NC \/ Soft-NS not computed: no embeddings/);
  });
});
