/**
 * KernelSHAP and Shapley value sampling against exact Shapley values, which the test computes by enumerating
 * every subset of the features with plain, unbatched forward passes of the bundled LM.
 */
import * as assert from 'node:assert/strict';
import { groupTokens } from '../../src/core/aggregation';
import { explain } from '../../src/core/explain';
import type { MethodParams } from '../../src/core/request';
import type { AttributionResult } from '../../src/core/result';
import { loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { PlainLm } from './plainLm';

/** Exact Shapley values of features (token groups) for the next-token log-probability, baseline delete. */
async function exactShapley(plain: PlainLm, ids: number[], groups: number[][], target: number, start: number): Promise<{ phi: number[]; none: number; all: number }> {
  const m = groups.length;
  const f = new Float64Array(1 << m);
  for (let s = 0; s < 1 << m; s++) {
    const kept = groups.flatMap((g, i) => ((s >> i) & 1 ? g : [])).sort((a, b) => a - b).map((t) => ids[t]);
    f[s] = await plain.nextLogProb(kept.length ? kept : [start], target);
  }
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const phi = new Array<number>(m).fill(0);
  for (let s = 0; s < 1 << m; s++) {
    let size = 0;
    for (let i = 0; i < m; i++) size += (s >> i) & 1;
    for (let i = 0; i < m; i++) {
      if ((s >> i) & 1) continue;
      phi[i] += ((fact(size) * fact(m - size - 1)) / fact(m)) * (f[s | (1 << i)] - f[s]);
    }
  }
  return { phi, none: f[0], all: f[(1 << m) - 1] };
}

/** Feature values back from token scores (each feature's value is spread over its tokens). */
function featureValues(result: AttributionResult, groups: number[][]): number[] {
  return groups.map((g) => g.reduce((s, t) => s + result.runs[0].scores[0][t], 0));
}

describe('Shapley methods equal exact Shapley values on the bundled LM', function () {
  let lm: LoadedModel;
  let plain: PlainLm;
  const prompt = 'Alice met Bob. Later, Alice said';
  before(async function () {
    lm = await loadModel('promptscope-tiny-lm');
    plain = await PlainLm.create(lm);
  });

  type Setup = { ids: number[]; groups: number[][]; exact: Awaited<ReturnType<typeof exactShapley>>; target: number };
  const setups = new Map<string, Promise<Setup>>();
  const setup = (features: 'token' | 'word'): Promise<Setup> => {
    if (!setups.has(features)) setups.set(features, computeSetup(features));
    return setups.get(features)!;
  };
  async function computeSetup(features: 'token' | 'word'): Promise<Setup> {
    const probe = await explain({ text: prompt, methods: ['occlusion'], target: { kind: 'next-token' }, trust: false }, lm);
    const ids = probe.input.tokens.map((t) => t.id);
    const groups = features === 'token' ? probe.input.tokens.filter((t) => !t.special).map((t) => [t.index]) : groupTokens(prompt, probe.input.tokens, 'word').map((g) => g.tokens);
    assert.ok(groups.length <= 10 && groups.length >= 6, `${groups.length} features`);
    const target = probe.target.rows[0].tokenId;
    return { ids, groups, target, exact: await exactShapley(plain, ids, groups, target, lm.special.bos!) };
  }

  const run = (params: MethodParams, method: string) => explain({ text: prompt, methods: [method], params, target: { kind: 'next-token' }, trust: false }, lm);

  for (const features of ['token', 'word'] as const) {
    it(`KernelSHAP with every coalition equals exact Shapley (${features} features)`, async function () {
      const { groups, exact } = await setup(features);
      const r = await run({ features, samples: 2 ** groups.length - 2 }, 'kernel-shap');
      const phi = featureValues(r, groups);
      phi.forEach((v, i) => assert.ok(Math.abs(v - exact.phi[i]) < 1e-6, `feature ${i}: ${v} vs exact ${exact.phi[i]}`));
      assert.equal(r.runs[0].diagnostics.samples, 2 ** groups.length);
      assert.ok(r.runs[0].diagnostics.samplingError!.every((row) => row.every((e) => e === 0)), 'an enumerated fit has no sampling error');
      console.log(`      max |KernelSHAP − exact| = ${Math.max(...phi.map((v, i) => Math.abs(v - exact.phi[i]))).toExponential(2)}`);
    });
  }

  it('Shapley sampling is efficient at any sample count and converges as 1/√n', async function () {
    const { groups, exact } = await setup('word');
    const errs: number[] = [];
    const ses: number[] = [];
    const counts = [4, 16, 64];
    for (const samples of counts) {
      // Root-mean-square error over several seeds, to see the rate and not one draw's luck.
      let sq = 0;
      let se = 0;
      const seeds = [1, 2, 3, 4];
      for (const seed of seeds) {
        const r = await run({ features: 'word', samples, seed }, 'shapley-sampling');
        assert.equal(r.runs[0].diagnostics.seed, seed);
        assert.equal(r.runs[0].diagnostics.samples, samples);
        const phi = featureValues(r, groups);
        const sum = phi.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - (exact.all - exact.none)) < 1e-5, `efficiency: Σφ = ${sum}, f(all) − f(none) = ${exact.all - exact.none}`);
        sq += phi.reduce((s, v, i) => s + (v - exact.phi[i]) ** 2, 0) / groups.length;
        se += groups.reduce((s, g) => s + g.reduce((a, t) => a + r.runs[0].diagnostics.samplingError![0][t], 0) ** 2, 0) / groups.length;
      }
      errs.push(Math.sqrt(sq / seeds.length));
      ses.push(Math.sqrt(se / seeds.length));
    }
    console.log(`      RMS error at ${counts.join(' / ')} permutations: ${errs.map((e) => e.toFixed(4)).join(' / ')}; reported standard error ${ses.map((e) => e.toFixed(4)).join(' / ')}`);
    // 16× the samples: 1/√n predicts a quarter of the error; allow a wide band around it.
    const ratio = errs[2] / errs[0];
    assert.ok(ratio > 0.1 && ratio < 0.45, `error ratio for 16× samples ${ratio.toFixed(3)} (1/√n: 0.25)`);
    // The reported standard error tracks the true error.
    ses.forEach((s, i) => assert.ok(s > errs[i] / 3 && s < errs[i] * 3, `reported SE ${s} vs RMS error ${errs[i]}`));
  });

  it('KernelSHAP is efficient with a partial budget and reports a sampling error', async function () {
    const { groups, exact } = await setup('token');
    const r = await run({ features: 'token', samples: 60, seed: 3 }, 'kernel-shap');
    const sum = featureValues(r, groups).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - (exact.all - exact.none)) < 1e-5);
    assert.ok(r.runs[0].diagnostics.samplingError![0].some((e) => e > 0));
  });
});
