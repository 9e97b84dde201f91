/**
 * Trust figures on a test-built additive classifier (true attributions known) and on the bundled LM:
 * comprehensiveness and sufficiency recomputed by plain forward passes, the true ranking beating random,
 * Soft-NC / Soft-NS at their analytic end points, agreement figures, and the embeddings forward path.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { explain, type ExplainDeps } from '../../src/core/explain';
import type { MethodContext } from '../../src/core/methods/method';
import type { AttributionResult } from '../../src/core/result';
import { faithfulness } from '../../src/core/trust/faithfulness';
import { SoftMasker, hellinger } from '../../src/core/trust/softMasking';
import { topCount } from '../../src/core/trust/ranking';
import { createGradientBackend } from '../../src/runtime/gradientBackend';
import { loadModel, ensureGradients } from '../../src/runtime/loadedModel';
import { OnnxRunner } from '../../src/runtime/onnxRunner';
import { buildAdditiveModel, logSoftmax2, MASK, WORDS, type AdditiveModel } from './additiveModel';

const PROMPT = 'alpha bravo charlie delta echo foxtrot golf';

async function depsFor(m: AdditiveModel): Promise<ExplainDeps> {
  const runner = await OnnxRunner.create({ ...m.info }, m.onnxPath, 0, {});
  runner.gradients = await createGradientBackend(m.dir, m.onnxPath, { kind: 'sequence-classifier' });
  return { runner, tokenizer: m.tokenizer, special: m.info.special };
}

describe('trust figures on an additive classifier', function () {
  let m: AdditiveModel;
  let deps: ExplainDeps;
  let result: AttributionResult;
  let plain: ort.InferenceSession;

  before(async () => {
    m = buildAdditiveModel();
    deps = await depsFor(m);
    plain = await ort.InferenceSession.create(m.onnxPath);
    result = await explain({ text: PROMPT, methods: ['occlusion', 'gradient-x-input'], target: { kind: 'class', label: 'positive' } }, deps);
  });
  after(() => fs.rmSync(m.dir, { recursive: true, force: true }));

  /** log p(positive) from one plain onnxruntime run, the given tokens replaced by [MASK]. */
  async function plainScore(ids: number[], removed: number[]): Promise<number> {
    const x = ids.map((id, i) => (removed.includes(i) ? MASK : id));
    const t = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, a.length]);
    const out = await plain.run({ input_ids: t(x), attention_mask: t(x.map(() => 1)) });
    return logSoftmax2(Array.from(out.logits.data as Float32Array, Number), 1);
  }

  it('comprehensiveness and sufficiency equal plain forward passes at every k', async () => {
    const t = result.trust!;
    assert.ok(t, 'no trust report');
    const ids = result.input.tokens.map((x) => x.id);
    const visible = result.input.tokens.filter((x) => !x.special).map((x) => x.index);
    const full = await plainScore(ids, []);
    for (const [mi, run] of result.runs.entries()) {
      const order = [...visible].sort((a, b) => run.scores[0][b] - run.scores[0][a] || a - b);
      const rows = t.methods[mi].rows[0];
      for (const [i, f] of t.fractions.entries()) {
        const c = topCount(f, visible.length);
        assert.equal(rows.removed[i], c);
        const compr = full - (await plainScore(ids, order.slice(0, c)));
        const suff = full - (await plainScore(ids, order.slice(c)));
        assert.ok(Math.abs(rows.comprehensiveness[i] - compr) < 1e-4, `${run.method} k=${f}: compr ${rows.comprehensiveness[i]} vs ${compr}`);
        assert.ok(Math.abs(rows.sufficiency[i] - suff) < 1e-4, `${run.method} k=${f}: suff ${rows.sufficiency[i]} vs ${suff}`);
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      assert.ok(Math.abs(rows.aopcComprehensiveness - mean(rows.comprehensiveness)) < 1e-12);
      assert.equal(rows.deletion[0], result.target.rows[0].score);
      assert.ok(Math.abs(rows.deletion[10] - (full - rows.comprehensiveness[9])) < 1e-9);
    }
  });

  it('the true ranking beats random and its reverse at every k', async () => {
    // True contributions: the class margin Σ E[id]·(W₁ − W₀); log p(positive) is monotone in it.
    const ids = result.input.tokens.map((x) => x.id);
    const contrib = ids.map((id) => { const z = m.logits([id]); const b = m.logits([]); return (z[1] - b[1]) - (z[0] - b[0]); });
    const ctx = contextOf(result, deps);
    const rev = contrib.map((c) => -c);
    const f = await faithfulness(ctx, [{ name: 'true', scores: [contrib] }, { name: 'reverse', scores: [rev] }], { baseline: 'mask', randomOrders: 8 });
    const [tr, rv] = f.methods.map((x) => x.rows[0]);
    const rnd = f.random[0];
    for (let i = 0; i < 9; i++) {
      assert.ok(tr.comprehensiveness[i] >= rnd.comprehensiveness[i] - 1e-9 && tr.comprehensiveness[i] >= rv.comprehensiveness[i], `k ${i}`);
      assert.ok(tr.sufficiency[i] <= rnd.sufficiency[i] + 1e-9 && tr.sufficiency[i] <= rv.sufficiency[i], `k ${i}`);
    }
    assert.ok(tr.aopcComprehensiveness > rnd.aopcComprehensiveness + 0.1);
    // Occlusion with the mask baseline recovers the true order on this model, so it scores the same.
    const occ = result.trust!.methods[0].rows[0];
    assert.ok(Math.abs(occ.aopcComprehensiveness - tr.aopcComprehensiveness) < 1e-9);
    assert.ok(result.trust!.methods[0].vsRandom[0].comprehensiveness! > 1);
  });

  it('Soft-NC / Soft-NS: analytic end points and the true ranking above random', async () => {
    const t = result.trust!;
    assert.equal(t.soft.available, true, t.soft.available ? '' : t.soft.reason);
    const ids = result.input.tokens.map((x) => x.id);
    const visible = result.input.tokens.filter((x) => !x.special).map((x) => x.index);
    const masker = new SoftMasker({ backend: deps.runner.gradients!, inputIds: ids, visible, position: ids.length - 1, samples: 4, seed: 3 });
    // S₀ = 1 − H(p(full), p(all visible masked)), the latter softmax(b) on this model.
    const lp = (z: number[]) => Float32Array.from([logSoftmax2(z, 0), logSoftmax2(z, 1)]);
    const s0 = 1 - hellinger(lp(m.logits(ids)), lp([...m.bias]));
    assert.ok(Math.abs((await masker.emptySufficiency()) - s0) < 1e-5);
    const ones = await masker.figures(visible.map(() => 1), 1);
    const zeros = await masker.figures(visible.map(() => 0), 1);
    assert.ok(Math.abs(ones!.softNS - 1) < 1e-5 && Math.abs(ones!.softNC - 1) < 1e-5, JSON.stringify(ones));
    assert.ok(Math.abs(zeros!.softNS) < 1e-5 && Math.abs(zeros!.softNC) < 1e-5, JSON.stringify(zeros));
    const occ = t.methods[0].soft!;
    assert.ok(occ.softNC > t.random.soft!.softNC, `occlusion Soft-NC ${occ.softNC} vs random ${t.random.soft!.softNC}`);
  });

  it('agreement: occlusion and gradient × input rank tokens alike on a linear model', () => {
    // Gradient × input of a linear margin is exactly the contribution, occlusion is monotone in it.
    const a = result.trust!.agreement[0];
    assert.equal(a.a, 'occlusion');
    assert.equal(a.b, 'gradient-x-input');
    assert.ok(a.spearman! > 0.99, `ρ ${a.spearman}`);
    assert.equal(a.topKOverlap, 1);
  });

  it('is absent when turned off, and costs no passes then', async () => {
    const f0 = deps.runner.forwardCount;
    const r = await explain({ text: PROMPT, methods: ['occlusion'], target: { kind: 'class' }, trust: false }, deps);
    assert.equal(r.trust, undefined);
    // explain itself reads the top classes and the target once each.
    assert.equal(deps.runner.forwardCount - f0, r.runs[0].diagnostics.forwardPasses + 2);
  });

  it('float16-stored weights read through Cast work for gradients and the embeddings path', async () => {
    const h = buildAdditiveModel({ fp16: true });
    try {
      const d = await depsFor(h);
      const r = await explain({ text: WORDS.slice(0, 5).join(' '), methods: ['gradient-x-input'], target: { kind: 'class', label: 'positive' } }, d);
      const ids = r.input.tokens.map((x) => x.id);
      const base = h.logits([]);
      ids.forEach((id, i) => {
        if (r.input.tokens[i].special) return;
        const z = h.logits([id]);
        // ∂ log p₁ / ∂ margin = p₀; gradient × input of the margin's contribution.
        const p0 = Math.exp(logSoftmax2(h.logits(ids), 0));
        const expect = p0 * ((z[1] - base[1]) - (z[0] - base[0]));
        assert.ok(Math.abs(r.runs[0].scores[0][i] - expect) < 1e-4, `token ${i}: ${r.runs[0].scores[0][i]} vs ${expect}`);
      });
      assert.equal(r.trust!.soft.available, true);
    } finally {
      fs.rmSync(h.dir, { recursive: true, force: true });
    }
  });
});

function contextOf(result: AttributionResult, deps: ExplainDeps): MethodContext {
  return {
    runner: deps.runner,
    prompt: result.input.tokens.map((t) => ({ id: t.id, start: t.start, end: t.end, special: t.special })),
    plan: { rows: result.target.rows, branches: [{ continuation: [], terms: [{ row: 0, offset: 0, tokenId: result.target.rows[0].tokenId, weight: 1 }] }] },
    params: {},
    special: deps.special,
    words: [],
    maxTokensPerBatch: 4096,
  };
}

describe('embeddings forward path on the bundled LM', function () {
  it('gives the same next-token log-probabilities as the ids path', async () => {
    const lm = await loadModel('promptscope-tiny-lm');
    await ensureGradients(lm);
    const ids = lm.tokenizer.encodePrompt('The capital of France is').map((t) => t.id);
    const top = await lm.runner.topTokens(ids, 3);
    const [lp] = await lm.runner.gradients!.logProbsFromEmbeds!([{ inputsEmbeds: lm.runner.gradients!.embed(ids), inputIds: ids, position: ids.length - 1 }]);
    assert.equal(lp.length, lm.runner.info.vocabSize);
    for (const t of top) assert.ok(Math.abs(lp[t.tokenId] - t.logProb) < 1e-4, `${t.tokenId}: ${lp[t.tokenId]} vs ${t.logProb}`);
    let sum = 0;
    for (const v of lp) sum += Math.exp(v);
    assert.ok(Math.abs(sum - 1) < 1e-4);
  });
});
