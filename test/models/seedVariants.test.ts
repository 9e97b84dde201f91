/**
 * The bundled seed variants (models/<model>/seeds/*): each loads, shares its model's tokenizer, predicts
 * with float16-stored weights, differentiates, and a result explained across them carries one variant per
 * folder. Skipped when a model has no seed variants.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { explain } from '../../src/core/explain';
import { ensureGradients, loadModel } from '../../src/runtime/loadedModel';
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

    it('a result explained across them has one variant per folder and finite SNR figures', async () => {
      const m = await loadModel(name);
      const target = m.folder.kind === 'sequence-classifier' ? { kind: 'class' as const } : { kind: 'next-token' as const };
      const r = await explain({ text, methods: ['occlusion'], target, trust: false }, m);
      const v = (await addVariation(r, { kind: 'seed-variants', models: ['bundled'] }, m, (id) => loadModel(id))).variation!;
      assert.equal(v.variants.length, folders.length + 1);
      const row = v.methods[0].rows[0];
      assert.ok(Number.isFinite(row.signal) && Number.isFinite(row.noise) && row.noise > 0);
    });
  });
}
