/**
 * The bundled seed variants (models/<model>/seeds/*): each loads, shares its model's tokenizer, predicts
 * with float16-stored weights, differentiates, and a result explained across them carries one variant per
 * folder. Each variant's logits and embedding gradients through onnxruntime match a float64 PyTorch
 * evaluation of the same float16 weights (reference/reference.json, models/build/seed_reference.py) within
 * the classical bound on float32 rounding. Skipped when a model has no seed variants.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { explain } from '../../src/core/explain';
import { ensureGradients, loadModel } from '../../src/runtime/loadedModel';

interface RefItem { input_ids: number[]; target: { token_id?: number; class_id?: number }; score: number; logits: number[]; grad_inputs_embeds: number[][] }

/**
 * Higham's γ_n = n·u / (1 − n·u) with u = 2⁻²⁴ (float32), n = the longest dot product times the matrix
 * products on the way to the output: the worst-case relative rounding error of the float32 evaluation, here
 * relative to the largest magnitude of the compared values. Any correct float32 kernel stays inside it.
 */
function gamma(longestDot: number, products: number): number {
  const nu = longestDot * products * 2 ** -24;
  return nu / (1 - nu);
}
import { addVariation, seedVariantFolders } from '../../src/runtime/seedVariants';

for (const [name, text] of [['promptscope-tiny-sentiment', 'The movie was not great.'], ['promptscope-tiny-lm', 'The capital of France is']] as const) {
  describe(`seed variants of ${name}`, function () {
    const dir = path.resolve(__dirname, '../../models', name);
    const folders = seedVariantFolders(dir);
    before(function () {
      if (!folders.length) { console.log(`      (skipped: ${name} has no seed variants)`); this.skip(); }
    });

    it('share the tokenizer, store weights in float16 and explain with gradients', async () => {
      const main = fs.readFileSync(path.join(dir, 'tokenizer.json'));
      for (const f of folders) {
        assert.ok(fs.readFileSync(path.join(f, 'tokenizer.json')).equals(main), `${f} has the model's tokenizer`);
        const size = fs.statSync(path.join(f, 'onnx', 'model.onnx')).size;
        assert.ok(size < 0.6 * fs.statSync(path.join(dir, 'onnx', 'model.onnx')).size, `${f} is stored compactly (${size} bytes)`);
        const m = await loadModel(f);
        await ensureGradients(m);
        const r = await explain({ text, methods: ['gradient-x-input'], target: { kind: 'next-token' }, trust: false }, m);
        assert.ok(r.target.rows[0].probability > 0 && r.runs[0].scores[0].every(Number.isFinite));
      }
    });

    it('logits and embedding gradients match a float64 evaluation of the stored float16 weights', async () => {
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, number>;
      const lm = cfg.n_layer !== undefined;
      // Per block: attention projections, scores, mixing, output projection and the two MLP products.
      const [dot, products] = lm ? [4 * cfg.n_embd, 6 * cfg.n_layer + 1] : [cfg.intermediate_size, 6 * cfg.num_hidden_layers + 2];
      const tol = gamma(dot, products);
      let worstLogit = 0, worstGrad = 0;
      for (const f of folders) {
        const ref = JSON.parse(fs.readFileSync(path.join(f, 'reference', 'reference.json'), 'utf8')) as { items: RefItem[] };
        assert.ok(ref.items.length >= 2, `${f} has reference items`);
        const m = await loadModel(f);
        await ensureGradients(m);
        for (const it of ref.items) {
          const ids = it.input_ids;
          const pos = lm ? ids.length - 1 : 0;
          const [values] = await m.runner.score([{ inputIds: ids, queries: it.logits.map((_, k) => ({ position: pos, tokenId: k })) }]);
          const scale = Math.max(...it.logits.map(Math.abs));
          const err = Math.max(...values.map((v, k) => Math.abs(v.logit - it.logits[k]))) / scale;
          worstLogit = Math.max(worstLogit, err);
          assert.ok(err <= tol, `${path.basename(f)} logits: relative error ${err.toExponential(2)} > bound ${tol.toExponential(2)}`);
          const target = it.target.token_id ?? it.target.class_id!;
          const [g] = await m.runner.gradients!.scoreAndGradient([{
            inputsEmbeds: m.runner.gradients!.embed(ids), inputIds: ids,
            target: { tokenIds: [target], positions: [pos], weights: [1], classScore: 'logit' },
          }]);
          const refG = it.grad_inputs_embeds.flat();
          const gScale = Math.max(...refG.map(Math.abs));
          const gErr = Math.max(...refG.map((x, k) => Math.abs(g.grad[k] - x))) / gScale;
          worstGrad = Math.max(worstGrad, gErr);
          // The backward pass doubles the products on the way.
          assert.ok(gErr <= gamma(dot, 2 * products), `${path.basename(f)} gradient: relative error ${gErr.toExponential(2)}`);
          assert.ok(Math.abs(g.score - it.score) <= tol * Math.max(1, Math.abs(it.score)) + tol * scale, `${path.basename(f)} score ${g.score} vs ${it.score}`);
        }
      }
      console.log(`      ${folders.length} variants: worst relative error ${worstLogit.toExponential(2)} (logits), ${worstGrad.toExponential(2)} (gradients); bound ${tol.toExponential(2)}`);
    });

    it('a result explained across them (at least four) has mean, sd, sign stability, signal, noise and SNR as recomputed from each model', async () => {
      const m = await loadModel(name);
      const target = m.folder.kind === 'sequence-classifier' ? { kind: 'class' as const } : { kind: 'next-token' as const };
      const r = await explain({ text, methods: ['occlusion'], params: { baseline: 'delete' }, target, trust: false }, m);
      const v = (await addVariation(r, { kind: 'seed-variants', models: ['bundled'] }, m, (id) => loadModel(id))).variation!;
      assert.equal(v.variants.length, folders.length + 1);
      assert.ok(folders.length >= 4, `at least four bundled seed variants (${folders.length})`);
      const row = v.methods[0].rows[0];
      assert.ok(Number.isFinite(row.signal) && Number.isFinite(row.noise) && row.noise > 0);
      // Recomputed here: each model's deletion occlusion of the pinned target by plain forward passes, then
      // the per-token mean and sample sd over models, signal = Var_w(mean), noise = mean_w(Var_s), sign flags.
      const ids = r.input.tokens.map((t) => t.id);
      const visible = r.input.tokens.filter((t) => !t.special).map((t) => t.index);
      const row0 = r.target.rows[0];
      const pos = (n: number) => (m.folder.kind === 'sequence-classifier' ? 0 : n - 1);
      const a: number[][] = [];
      for (const dirOrName of [name, ...folders]) {
        const mm = await loadModel(dirOrName);
        const logp = async (xs: number[]) => (await mm.runner.score([{ inputIds: xs, queries: [{ position: pos(xs.length), tokenId: row0.tokenId }] }]))[0][0].logProb;
        const full = await logp(ids);
        const scores: number[] = [];
        for (const i of visible) scores.push(full - await logp(ids.filter((_, j) => j !== i)));
        a.push(scores);
      }
      const S = a.length;
      const mean = visible.map((_, w) => a.reduce((t, x) => t + x[w], 0) / S);
      const variance = visible.map((_, w) => a.reduce((t, x) => t + (x[w] - mean[w]) ** 2, 0) / (S - 1));
      const mm = mean.reduce((t, x) => t + x, 0) / mean.length;
      const signal = mean.reduce((t, x) => t + (x - mm) ** 2, 0) / mean.length;
      const noise = variance.reduce((t, x) => t + x, 0) / variance.length;
      visible.forEach((tok, w) => {
        assert.ok(Math.abs(row.mean[tok] - mean[w]) < 1e-4, `mean of token ${tok}: ${row.mean[tok]} vs ${mean[w]}`);
        assert.ok(Math.abs(row.sd[tok] - Math.sqrt(variance[w])) < 1e-4, `sd of token ${tok}`);
        assert.equal(row.stableSign[tok], a.every((x) => x[w] > 0) || a.every((x) => x[w] < 0), `sign of token ${tok}`);
      });
      assert.ok(Math.abs(row.signal - signal) < 1e-4 * Math.max(1, signal), `signal ${row.signal} vs ${signal}`);
      assert.ok(Math.abs(row.noise - noise) < 1e-4 * Math.max(1, noise), `noise ${row.noise} vs ${noise}`);
      assert.ok(Math.abs(row.snr! - signal / noise) < 1e-3 * Math.max(1, signal / noise), `SNR ${row.snr} vs ${signal / noise}`);
    });
  });
}
