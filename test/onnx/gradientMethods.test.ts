/** Gradient methods on the bundled tiny LM through the real onnxruntime backend (and its on-disk cache). */
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createGradientBackend, OnnxGradientBackend } from '../../src/runtime/gradientBackend';
import { gradientSaliency } from '../../src/core/methods/gradientSaliency';
import { gradientTimesInput } from '../../src/core/methods/gradientTimesInput';
import { integratedGradients } from '../../src/core/methods/integratedGradients';
import { smoothGrad } from '../../src/core/methods/smoothGrad';
import { CancelledError } from '../../src/core/modelRunner';
import { bundled } from './fixtures';

describe('gradient methods (bundled tiny LM)', function () {
  this.timeout(120000);
  let backend: OnnxGradientBackend;
  let cacheDir: string;
  const ids = [271, 305, 279, 1129, 264];
  const req = { inputIds: ids, target: { tokenIds: [264], positions: [4], weights: [1] } };

  before(async function () {
    const b = bundled('promptscope-tiny-lm');
    if (!b) { console.log('      (skipped: models/promptscope-tiny-lm not found)'); this.skip(); }
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-gradcache-'));
    backend = await createGradientBackend(b!.dir, b!.onnx, { kind: 'causal-lm', cacheDir });
  });
  after(() => { if (cacheDir) fs.rmSync(cacheDir, { recursive: true, force: true }); });

  it('caches the augmented graph and reloads it with identical results', async () => {
    assert.ok(fs.readdirSync(cacheDir).some((f) => f.endsWith('.onnx')), 'no cached graph written');
    const b = bundled('promptscope-tiny-lm')!;
    const again = await createGradientBackend(b.dir, b.onnx, { kind: 'causal-lm', cacheDir });
    const [r1] = await backend.scoreAndGradient([{ inputsEmbeds: backend.embed(ids), inputIds: ids, target: req.target }]);
    const [r2] = await again.scoreAndGradient([{ inputsEmbeds: again.embed(ids), inputIds: ids, target: req.target }]);
    assert.strictEqual(r1.score, r2.score);
    assert.deepStrictEqual(Array.from(r1.grad.slice(0, 50)), Array.from(r2.grad.slice(0, 50)));
  });

  it('batched items equal single items (items are independent)', async () => {
    const other = [11, 12, 13, 14, 15];
    const items = [ids, other].map((x) => ({ inputsEmbeds: backend.embed(x), inputIds: x, target: { tokenIds: [7, 9], positions: [4, 1], weights: [1, 0.25] } }));
    const both = await backend.scoreAndGradient(items);
    const single = await backend.scoreAndGradient([items[1]]);
    assert.ok(Math.abs(both[1].score - single[0].score) < 1e-5);
    let d = 0;
    for (let k = 0; k < single[0].grad.length; k++) d = Math.max(d, Math.abs(both[1].grad[k] - single[0].grad[k]));
    assert.ok(d < 1e-5, `max diff ${d}`);
  });

  it('saliency and gradient×input give one finite score per token', async () => {
    const s = await gradientSaliency(backend, req);
    const gx = await gradientTimesInput(backend, req);
    assert.strictEqual(s.scores.length, ids.length);
    assert.strictEqual(gx.scores.length, ids.length);
    assert.ok(s.scores.every((v) => Number.isFinite(v) && v >= 0) && s.scores.some((v) => v > 0));
    assert.ok(gx.scores.every(Number.isFinite));
    assert.ok(Math.abs(s.score - gx.score) < 1e-6);
  });

  it("integrated gradients' completeness gap shrinks as steps grow", async () => {
    // From the zero baseline the path starts where LayerNorm is sharpest (near-zero inputs), so the Riemann
    // sum needs a few hundred steps to close the gap on this model; the check is that it does converge.
    const gaps: number[] = [];
    for (const steps of [1, 4, 32, 256]) {
      const r = await integratedGradients(backend, { ...req, steps, maxSteps: steps, rule: 'riemann-midpoint', baseline: 'zero' }, { maxTokensPerBatch: 2048 });
      gaps.push(r.diagnostics.completenessGap);
      assert.strictEqual(r.scores.length, ids.length);
    }
    console.log(`      completeness gap at 1/4/32/256 steps: ${gaps.map((g) => g.toExponential(2)).join(' / ')}`);
    assert.ok(gaps[3] < gaps[0] && gaps[3] < gaps[1] && gaps[3] < gaps[2], `gaps ${gaps}`);
    assert.ok(gaps[3] < 0.05, `gap at 256 steps ${gaps[3]}`);
  });

  it('integrated gradients by default (adaptive panels, mean baseline) add up to within 1 % and match a 256-node Gauss–Legendre rule', async () => {
    const gl = await integratedGradients(backend, { ...req, baseline: 'mean' });
    const fine = await integratedGradients(backend, { ...req, steps: 256, maxSteps: 256, rule: 'gauss-legendre', baseline: 'mean' });
    const scale = Math.max(...fine.scores.map(Math.abs));
    gl.scores.forEach((v, i) => assert.ok(Math.abs(v - fine.scores[i]) < 0.01 * scale, `token ${i}: ${v} vs ${fine.scores[i]}`));
    const mid = await integratedGradients(backend, { ...req, steps: 32, maxSteps: 32, rule: 'riemann-midpoint', baseline: 'mean' });
    const d = gl.diagnostics;
    console.log(`      relative gap: adaptive ${d.rounds.join('→')} nodes ${d.relativeCompletenessGap.toExponential(2)} (${d.backwardPasses} passes), midpoint 32 ${mid.diagnostics.relativeCompletenessGap.toExponential(2)} (${mid.diagnostics.backwardPasses} passes)`);
    assert.ok(d.relativeCompletenessGap <= 0.01, `relative gap ${d.relativeCompletenessGap}`);
    // Refinement stopped once the gap met the target; every node is evaluated once.
    assert.strictEqual(d.rule, 'adaptive');
    assert.strictEqual(d.backwardPasses, 2 + d.steps - 1);
    assert.ok(d.backwardPasses < 50, `${d.backwardPasses} passes (doubled Gauss–Legendre needs 50 here)`);
    // Independent check of the gap itself: the scores' sum against the two endpoint scores.
    const sum = gl.scores.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(Math.abs(sum - (d.scoreAtInput - d.scoreAtBaseline)) - d.completenessGap) < 1e-9);
    // Both rules approximate the same integral: their attributions agree closely.
    const diff = Math.max(...gl.scores.map((v, i) => Math.abs(v - mid.scores[i])));
    assert.ok(diff < 0.05 * Math.max(...mid.scores.map(Math.abs)), `rules disagree by ${diff}`);
  });

  it('integrated gradients double the nodes while the gap is above 1 %, within maxSteps', async () => {
    const r = await integratedGradients(backend, { ...req, steps: 1, maxSteps: 8, baseline: 'zero', rule: 'graded-clenshaw-curtis' });
    const d = r.diagnostics;
    assert.deepStrictEqual(d.rounds, d.relativeCompletenessGap <= 0.01 ? d.rounds : [1, 2, 4, 8]);
    assert.ok(d.rounds.length >= 2, `rounds ${d.rounds}`);
    assert.strictEqual(d.backwardPasses, 2 + d.steps - 1);
    const gl = await integratedGradients(backend, { ...req, steps: 1, maxSteps: 8, baseline: 'zero', rule: 'gauss-legendre' });
    assert.strictEqual(gl.diagnostics.backwardPasses, 2 + gl.diagnostics.rounds.reduce((a, b) => a + b, 0), 'Gauss–Legendre rules share no nodes');
    assert.strictEqual(d.steps, d.rounds[d.rounds.length - 1]);
  });

  it('refined integrated gradients equal an independent weighted sum of gradients at the graded Clenshaw–Curtis nodes', async () => {
    const r = await integratedGradients(backend, { ...req, steps: 2, maxSteps: 16, baseline: 'mean', rule: 'graded-clenshaw-curtis' });
    const n = r.diagnostics.steps;
    // Independently: every node of the final rule (n + 1 of them, in one call), weights and nodes from the closed form.
    const x = backend.embed(ids), mean = backend.meanEmbedding(), h = backend.hiddenSize;
    const x0 = Float32Array.from(x, (_, k) => mean[k % h]);
    const t = Array.from({ length: n + 1 }, (_, j) => (1 - Math.cos((j * Math.PI) / n)) / 2);
    const w = t.map((_, j) => {
      let s = 1;
      for (let k = 1; k <= n / 2; k++) s -= ((2 * k === n ? 1 : 2) * Math.cos((2 * k * j * Math.PI) / n)) / (4 * k * k - 1);
      return ((j === 0 || j === n ? 1 : 2) / n) * s / 2 * 2 * t[j];
    });
    const items = t.map((tj) => ({ ...req, inputsEmbeds: Float32Array.from(x0, (v, k) => v + tj * tj * (x[k] - v)) }));
    const vals = await backend.scoreAndGradient(items);
    const expect = ids.map((_, i) => {
      let s = 0;
      vals.forEach((v, j) => { for (let k = i * h; k < (i + 1) * h; k++) s += w[j] * (x[k] - x0[k]) * v.grad[k]; });
      return s;
    });
    const scale = Math.max(...expect.map(Math.abs));
    r.scores.forEach((s, i) => assert.ok(Math.abs(s - expect[i]) < 1e-4 * scale, `token ${i}: ${s} vs ${expect[i]}`));
    assert.ok(Math.abs(r.diagnostics.scoreAtBaseline - vals[0].score) < 1e-5 && Math.abs(r.diagnostics.scoreAtInput - vals[n].score) < 1e-5);
  });

  it('integrated gradients supports mean and pad baselines and rejects a missing pad id', async () => {
    const mean = await integratedGradients(backend, { ...req, steps: 8, baseline: 'mean' });
    const pad = await integratedGradients(backend, { ...req, steps: 8, baseline: 'pad', padTokenId: 4095 });
    assert.ok(mean.scores.every(Number.isFinite) && pad.scores.every(Number.isFinite));
    await assert.rejects(integratedGradients(backend, { ...req, baseline: 'pad' }), /pad token/);
  });

  it('SmoothGrad is reproducible for a seed and reports it', async () => {
    const a = await smoothGrad(backend, { ...req, samples: 4, seed: 42 });
    const b = await smoothGrad(backend, { ...req, samples: 4, seed: 42 });
    const c = await smoothGrad(backend, { ...req, samples: 4, seed: 43 });
    assert.deepStrictEqual(a.scores, b.scores);
    assert.notDeepStrictEqual(a.scores, c.scores);
    assert.strictEqual(a.diagnostics.seed, 42);
  });

  it('honours cancellation and reports progress', async () => {
    const ac = new AbortController();
    const progress: [number, number][] = [];
    await assert.rejects(
      integratedGradients(backend, { ...req, steps: 16, maxSteps: 16 }, { maxTokensPerBatch: 10, signal: ac.signal, onProgress: (d, t) => { progress.push([d, t]); if (d >= 4) ac.abort(); } }),
      CancelledError,
    );
    // 2 endpoints + at most maxSteps − 1 = 15 path points.
    assert.ok(progress.length >= 2 && progress[0][1] === 17, `total ${progress[0]?.[1]}`);
  });
});
