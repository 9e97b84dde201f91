/**
 * The layer methods and GradientSHAP on the bundled models, each against an independent computation:
 * layer gradient × activation vs central differences of the score along each token's own activation; layer
 * integrated gradients' sum vs f(x) − f(baseline input) from the embeddings gradient graph (a different graph, and
 * a check that the stream found is a true cut of the model); GradientSHAP reproducible for a seed, with a reported
 * standard error that matches the spread over seeds.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { explain } from '../../src/core/explain';
import { ensureAttention, ensureGradients, loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { baselineEmbeddings } from '../../src/core/methods/integratedGradients';
import { createLayerGradientBackend } from '../../src/runtime/layerGradientBackend';

const CACHE = path.join(os.tmpdir(), 'promptscope-test-cache');
const PROMPT = 'The capital of France is';

describe('layer methods and GradientSHAP', function () {
  this.timeout(120000);
  let lm: LoadedModel;
  before(async () => {
    lm = await loadModel('promptscope-tiny-lm');
    await ensureGradients(lm, CACHE);
  });

  it('layer gradient × activation equals the central difference along each token’s activation, at every depth', async () => {
    const r = await explain({ text: PROMPT, methods: ['layer-gradient-x-activation'], target: { kind: 'next-token' }, trust: false, params: { layer: 1 } }, lm);
    const run = r.runs[0];
    const b = lm.runner.layerGradients!;
    assert.equal(b.layers, 4);
    assert.deepEqual(run.layerSweep?.streams, [0, 1, 2, 3, 4]);
    assert.deepEqual(run.layerSweep!.scores[0][2], run.scores[0], '--layer 1 is the output of block 1 (stream 2)');
    const ids = r.input.tokens.map((t) => t.id);
    const target = { tokenIds: [r.target.rows[0].tokenId], positions: [ids.length - 1], weights: [1] };
    const inputsEmbeds = lm.runner.gradients!.embed(ids);
    const streams = [0, 1, 2, 3, 4];
    const [v] = await b.scoreAndLayerGradients([{ inputsEmbeds, inputIds: ids, target }], streams);
    const h = v.activations[0].length / ids.length;
    let checked = 0, worst = 0;
    for (const s of streams) {
      const a = v.activations[s];
      for (let i = 0; i < ids.length; i++) {
        // f(a + t·a_i) with only token i's row moved: d/dt at 0 is Σ_h ∂f/∂a_ih · a_ih.
        const along = (t: number) => Float32Array.from(a, (x, j) => (Math.floor(j / h) === i ? t * x : 0));
        const f = async (t: number) => (await b.scoreAndLayerGradients([{ inputsEmbeds, inputIds: ids, target, delta: { stream: s, values: along(t) } }], [s]))[0].score;
        const e = 0.1;
        const d1 = ((await f(e)) - (await f(-e))) / (2 * e), d2 = ((await f(e / 2)) - (await f(-e / 2))) / e;
        const fd = (4 * d2 - d1) / 3;
        const score = run.layerSweep!.scores[0][s][i];
        const scale = Math.max(...run.layerSweep!.scores[0][s].map(Math.abs));
        // Richardson's (4·d₂ − d₁)/3 turns a rounding error δ in each f into at most 3δ/e; δ ≤ 64 u |f| for the fp32
        // forward pass (u = 2⁻²⁴), plus 0.2 % of the depth's largest score for the remaining truncation.
        const bound = 2e-3 * Math.max(scale, 1e-3) + (3 * 64 * 2 ** -24 * Math.max(1, Math.abs(v.score))) / e;
        worst = Math.max(worst, Math.abs(score - fd) / bound);
        assert.ok(Math.abs(score - fd) <= bound, `stream ${s} token ${i}: ${score} vs central difference ${fd}`);
        checked++;
      }
    }
    assert.equal(checked, 5 * ids.length);
    console.log(`      worst error ÷ its bound: ${worst.toExponential(2)}`);
  });

  it('layer integrated gradients add up to f(x) − f(baseline input) computed on the embeddings gradient graph', async () => {
    const ids = lm.tokenizer.encodePrompt(PROMPT).map((t) => t.id);
    const g = lm.runner.gradients!;
    for (const layer of [0, 2, 3]) {
      const r = await explain({ text: PROMPT, methods: ['layer-integrated-gradients'], target: { kind: 'next-token' }, trust: false, params: { layer } }, lm);
      const target = { tokenIds: [r.target.rows[0].tokenId], positions: [ids.length - 1], weights: [1] };
      const [fx, fb] = await g.scoreAndGradient([
        { inputsEmbeds: g.embed(ids), inputIds: ids, target },
        { inputsEmbeds: baselineEmbeddings(g, ids, 'mean'), inputIds: ids, target },
      ]);
      assert.ok(Math.abs(fx.score - r.target.rows[0].logProb) < 1e-4, 'the same target score as the forward model');
      const sum = r.runs[0].scores[0].reduce((a, b) => a + b, 0);
      const span = Math.abs(fx.score - fb.score);
      assert.ok(span > 0.1, 'the baseline moves the score (else the check is vacuous)');
      assert.ok(Math.abs(sum - (fx.score - fb.score)) <= 0.011 * span + 1e-4, `layer ${layer}: Σ ${sum} vs f(x) − f(b) ${fx.score - fb.score}`);
      const rel = r.runs[0].diagnostics.relativeCompletenessGap![0];
      assert.ok(rel <= 0.01, `reported relative gap ${rel}`);
      assert.ok(Math.abs(r.runs[0].diagnostics.completenessGap![0] - Math.abs(sum - (fx.score - fb.score))) <= 1e-3 * span + 1e-4, 'the reported gap is the gap measured here');
    }
  });

  it('layer integrated gradients sweep every depth when asked', async () => {
    const r = await explain({ text: 'Hello there', methods: ['layer-integrated-gradients'], target: { kind: 'next-token' }, trust: false, params: { layerPick: 'last', sweepLayers: true, steps: 8, maxSteps: 8 } }, lm);
    const sweep = r.runs[0].layerSweep!;
    assert.deepEqual(sweep.streams, [0, 1, 2, 3, 4]);
    assert.deepEqual(sweep.scores[0][4], r.runs[0].scores[0], 'last = the output of block 3');
    assert.deepEqual(r.runs[0].params.layer, 3);
  });

  it('GradientSHAP is reproducible for a seed and its standard error matches the spread over seeds', async () => {
    const run = async (seed: number) => (await explain({ text: PROMPT, methods: ['gradient-shap'], target: { kind: 'next-token' }, trust: false, params: { seed, samples: 16 } }, lm)).runs[0];
    const a = await run(3), again = await run(3);
    assert.deepEqual(again.scores, a.scores);
    assert.deepEqual(again.diagnostics.samplingError, a.diagnostics.samplingError);
    assert.equal(a.diagnostics.seed, 3);
    const seeds = await Promise.all([4, 5, 6, 7, 8, 9, 10, 11].map(run));
    assert.notDeepEqual(seeds[0].scores, a.scores, 'another seed draws other baselines');
    // Across seeds each score's sd should be about its reported standard error (same sample count).
    const n = a.scores[0].length;
    let ratio = 0;
    for (let i = 0; i < n; i++) {
      const xs = seeds.map((r) => r.scores[0][i]);
      const m = xs.reduce((s, x) => s + x, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
      const se = seeds.reduce((s, r) => s + r.diagnostics.samplingError![0][i], 0) / seeds.length;
      ratio += sd / se / n;
    }
    assert.ok(ratio > 0.5 && ratio < 2, `mean sd over seeds ÷ reported standard error = ${ratio.toFixed(2)}`);
  });

  it('caches the layer graph: a second backend loads it and gives the same gradients', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-layer-cache-'));
    try {
      const ids = lm.tokenizer.encodePrompt(PROMPT).map((t) => t.id);
      const item = { inputsEmbeds: lm.runner.gradients!.embed(ids), inputIds: ids, target: { tokenIds: [5], positions: [ids.length - 1], weights: [1] } };
      const first = await createLayerGradientBackend(lm.folder.onnxPath, { kind: 'causal-lm', layers: 4, cacheDir: dir }).scoreAndLayerGradients([item], [1, 3]);
      const files = fs.readdirSync(dir).sort();
      assert.equal(files.length, 2, files.join(', '));
      assert.ok(files[0].endsWith('.json') && files[1].endsWith('.onnx'));
      // A corrupt metadata file is a cache miss, not an error; an intact one is read instead of rebuilding.
      const onnx = path.join(dir, files[1]);
      const mtime = fs.statSync(onnx).mtimeMs;
      const again = await createLayerGradientBackend(lm.folder.onnxPath, { kind: 'causal-lm', layers: 4, cacheDir: dir }).scoreAndLayerGradients([item], [1, 3]);
      assert.equal(fs.statSync(onnx).mtimeMs, mtime, 'loaded, not rewritten');
      assert.deepEqual(again, first);
      fs.writeFileSync(path.join(dir, files[0]), '{');
      const rebuilt = await createLayerGradientBackend(lm.folder.onnxPath, { kind: 'causal-lm', layers: 4, cacheDir: dir }).scoreAndLayerGradients([item], [1, 3]);
      assert.deepEqual(rebuilt, first);
      assert.ok(JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8')).format >= 1, 'the corrupt entry was rewritten');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('attention reads --layer middle / last as the same blocks', async () => {
    await ensureAttention(lm, CACHE);
    const run = async (params: object) => (await explain({ text: PROMPT, methods: ['attention'], target: { kind: 'next-token' }, trust: false, params }, lm)).runs[0];
    for (const [pick, block] of [['last', 3], ['middle', 1]] as const) {
      const named = await run({ layerPick: pick }), indexed = await run({ layer: block });
      assert.deepEqual(named.params, { layer: block });
      assert.deepEqual(named.scores, indexed.scores);
    }
  });

  it('names the blocks when --layer is out of range', async () => {
    await assert.rejects(explain({ text: PROMPT, methods: ['layer-gradient-x-activation'], target: { kind: 'next-token' }, trust: false, params: { layer: 9 } }, lm), /Layer 9 does not exist: this model has 4 blocks \(0–3, or middle \/ last\)/);
  });

  it('explains the bundled classifier at a layer (post-norm BERT)', async () => {
    const cls = await loadModel('promptscope-tiny-sentiment');
    await ensureGradients(cls, CACHE);
    const r = await explain({ text: 'a truly wonderful film', methods: ['layer-gradient-x-activation', 'layer-integrated-gradients'], target: { kind: 'class' }, trust: false, params: { layerPick: 'last' } }, cls);
    for (const run of r.runs) assert.ok(run.scores[0].every(Number.isFinite) && run.scores[0].some((x) => x !== 0), run.method);
    assert.ok(r.runs[1].diagnostics.relativeCompletenessGap![0] <= 0.01);
  });
});
