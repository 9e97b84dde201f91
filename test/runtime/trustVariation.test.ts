/**
 * A result explained across seed variants: four test-built additive classifiers (same tokenizer, the same
 * weights plus seeded noise) stand for models trained with other seeds; per-token mean, sd and sign stability must equal the
 * statistics of the occlusion values computed independently from each model's weights.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { explain, type ExplainDeps } from '../../src/core/explain';
import { explainVariation } from '../../src/core/trust/variation';
import { unstableSignTokens, variationHeadline } from '../../src/core/trust/trustText';
import { OnnxRunner } from '../../src/runtime/onnxRunner';
import { buildAdditiveModel, logSoftmax2, MASK, type AdditiveModel } from './additiveModel';

describe('variation across seed variants (additive classifiers)', function () {
  const models: AdditiveModel[] = [];
  const deps = new Map<string, ExplainDeps>();
  before(async () => {
    for (const seed of [1, 2, 3, 4]) {
      const m = buildAdditiveModel({ seed: 7, perturb: { seed, scale: 0.6 } });
      models.push(m);
      deps.set(m.dir, { runner: await OnnxRunner.create({ ...m.info }, m.onnxPath, 0, {}), tokenizer: m.tokenizer, special: m.info.special });
    }
  });
  after(() => { for (const m of models) fs.rmSync(m.dir, { recursive: true, force: true }); });

  it('per-token mean, sd and sign stability match the independent occlusion values', async () => {
    const text = 'alpha bravo charlie delta echo';
    const first = models[0];
    const result = await explain({ text, model: first.dir, methods: ['occlusion'], target: { kind: 'class', label: 'positive' }, trust: false }, deps.get(first.dir)!);
    const report = await explainVariation(result, { kind: 'seed-variants', models: models.slice(1).map((m) => m.dir) }, (req, label) => {
      assert.equal(req.target.kind, 'class');
      return explain(req, deps.get(label)!);
    });
    assert.equal(report.variants.length, 4);
    const ids = result.input.tokens.map((t) => t.id);
    // Occlusion (mask baseline) of token i under model m: log p₁(x) − log p₁(x with token i masked).
    const occ = models.map((m) => ids.map((_, i) => logSoftmax2(m.logits(ids), 1) - logSoftmax2(m.logits(ids.map((id, j) => (j === i ? MASK : id))), 1)));
    const r = report.methods[0].rows[0];
    for (const t of result.input.tokens) {
      if (t.special) continue;
      const xs = occ.map((o) => o[t.index]);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
      assert.ok(Math.abs(r.mean[t.index] - mean) < 1e-4, `mean ${t.text}`);
      assert.ok(Math.abs(r.sd[t.index] - sd) < 1e-4, `sd ${t.text}`);
      assert.equal(r.stableSign[t.index], xs.every((x) => x > 0) || xs.every((x) => x < 0), `sign ${t.text}`);
    }
    const withVariation = { ...result, variation: report };
    const unstable = unstableSignTokens(withVariation, 'occlusion', 0);
    assert.deepEqual(unstable, result.input.tokens.filter((t) => !t.special && !r.stableSign[t.index]).map((t) => t.index));
    assert.ok(unstable.length > 0 && unstable.length < 5, `random weights give some stable and some unstable tokens (${unstable.length} unstable)`);
    assert.match(variationHeadline(withVariation, 'occlusion', 0, 1)!, /^mean [+−]\d\.\d{3} ± \d\.\d{3} over 4 seed variants; sign agrees in \d of 4/);
    assert.ok(r.snr !== null && r.snr > 0);
  });

  it('refuses a variant that tokenizes differently, naming it', async () => {
    const first = models[0];
    const result = await explain({ text: 'alpha bravo', model: first.dir, methods: ['occlusion'], target: { kind: 'class' }, trust: false }, deps.get(first.dir)!);
    await assert.rejects(
      explainVariation(result, { kind: 'seed-variants', models: ['other'] }, (req) => explain({ ...req, text: 'alpha bravo charlie' }, deps.get(first.dir)!)),
      /Variant other tokenizes the prompt differently/,
    );
  });
});
