/**
 * Model variants: a folder holding the bundled LM as the hub lays out its variants (model.onnx,
 * model_fp16.onnx, model_q4.onnx, model_q4f16.onnx, model_int8.onnx, model_bnb4.onnx, some with external
 * data). Each explains with numbers equal to a plain onnxruntime run of that file; gradient methods run on
 * each and match central differences; auto says what it picked and why; a missing variant names those present.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { explain } from '../../src/core/explain';
import { EngineError } from '../../src/core/engineProtocol';
import { loadModel as loadOnnx } from '../../src/onnx/modelFile';
import { encodeModel } from '../../src/onnx/onnxProto';
import { ensureGradients, loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { externalDataFiles, filesForVariant, variantFileName, variantsInFolder, variantsInListing, type ConcreteVariant } from '../../src/runtime/modelVariants';
import { chooseVariant } from '../../src/runtime/variantChoice';
import { halfToFloat } from '../../src/runtime/tensorDecoding';
import { bundled, skipUnless } from '../onnx/fixtures';
import { buildVariants, saveWithExternalData, type BuiltVariant } from '../onnx/variantModels';

const PROMPT = 'The capital of France is';

describe('model variants', function () {
  let dir: string;
  const cache = path.join(os.tmpdir(), 'promptscope-test-cache');
  before(function () {
    const src = skipUnless(this, bundled('promptscope-tiny-lm'), 'bundled model promptscope-tiny-lm');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-variants-'));
    fs.mkdirSync(path.join(dir, 'onnx'));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(src.dir, f), path.join(dir, f));
    const models = buildVariants(() => loadOnnx(src.onnx));
    for (const [v, m] of Object.entries(models) as [BuiltVariant, ReturnType<typeof loadOnnx>][]) {
      const file = path.join(dir, 'onnx', variantFileName(v));
      // fp32 and q4 are split over two external data files each; the rest are single files.
      if (v === 'fp32') saveWithExternalData(m, file, { chunkBytes: 6 << 20 });
      else if (v === 'q4') saveWithExternalData(m, file);
      else fs.writeFileSync(file, encodeModel(m));
    }
  });

  it('finds every variant with its external data files', function () {
    const found = variantsInFolder(dir);
    assert.deepEqual(found.map((f) => f.variant).sort(), ['bnb4', 'fp16', 'fp32', 'int8', 'q4', 'q4f16']);
    assert.deepEqual(found.find((f) => f.variant === 'fp32')!.externalData, ['onnx/model.onnx_data', 'onnx/model.onnx_data_1']);
    assert.deepEqual(found.find((f) => f.variant === 'q4')!.externalData, ['onnx/model_q4.onnx_data', 'onnx/model_q4.onnx_data_1']);
    assert.deepEqual(found.find((f) => f.variant === 'fp16')!.externalData, []);
  });

  it('maps variants to hub file names and lists what a download needs', function () {
    const tree = ['config.json', 'tokenizer.json', 'README.md', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model_q4f16.onnx', 'onnx/model_quantized.onnx', 'onnx/model_uint8.onnx'];
    assert.deepEqual(filesForVariant(tree, 'fp32', 'org/name'), ['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/model.onnx_data']);
    assert.deepEqual(filesForVariant(tree, 'q4f16', 'org/name'), ['config.json', 'tokenizer.json', 'onnx/model_q4f16.onnx']);
    assert.throws(() => filesForVariant(tree, 'bnb4', 'org/name'), /no bnb4 variant \(model_bnb4\.onnx\)\. Present: fp32 \(model\.onnx\), q4f16 \(model_q4f16\.onnx\), uint8 \(model_uint8\.onnx\), quantized \(model_quantized\.onnx\)/);
    // Older Transformers.js exports name the decoder decoder_model_merged*.onnx.
    assert.deepEqual(variantsInListing(['onnx/decoder_model_merged_quantized.onnx']).map((v) => [v.variant, v.file]), [['quantized', 'onnx/decoder_model_merged_quantized.onnx']]);
    assert.deepEqual(externalDataFiles('model.onnx', ['model.onnx_data_1', 'model.onnx.data', 'model.onnx_data', 'model_fp16.onnx_data', 'model.onnx_data_10', 'model.onnx_data_2']),
      ['model.onnx.data', 'model.onnx_data', 'model.onnx_data_1', 'model.onnx_data_2', 'model.onnx_data_10']);
  });

  it('auto picks fp32 for gradients and when it fits, a smaller variant when memory is short, and says why', function () {
    const fwd = chooseVariant(dir, 'auto', 'forward');
    assert.equal(fwd.variant, 'fp32');
    assert.match(fwd.reason, /fits in memory/);
    // 10 MB free: fp32 (10.5 MB) would take more than half; q4 (4.5 MB: embeddings stay fp32) fits.
    const short = chooseVariant(dir, 'auto', 'forward', 10e6);
    assert.equal(short.variant, 'q4');
    assert.match(short.reason, /fp32 \(\d+ MB\) would take more than half the free memory/);
    const grad = chooseVariant(dir, 'auto', 'gradients', 8e6);
    assert.equal(grad.variant, 'fp32');
    assert.match(grad.reason, /gradients are computed in fp32/);
  });

  it('refuses a missing variant naming the ones present', async function () {
    await assert.rejects(loadModel(dir, { variant: 'uint8' }), (e: unknown) =>
      e instanceof EngineError && /no uint8 variant \(model_uint8\.onnx\)/.test(e.message) && /Present: fp32 \(model\.onnx\), fp16 .*bnb4 \(model_bnb4\.onnx\)/.test(e.message));
  });

  /** log p(· | ids) at the last position from one plain run of the variant's file, decoded here. */
  async function plainLogProbs(file: string, ids: number[]): Promise<Float64Array> {
    const s = await ort.InferenceSession.create(file);
    const meta = s.inputMetadata as unknown as { name: string; type: string; shape: (number | string)[] }[];
    const n = ids.length;
    const i64 = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, n]);
    const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)), position_ids: i64(ids.map((_, i) => i)) };
    for (const m of meta.filter((x) => x.name.startsWith('past'))) {
      const dims = [1, m.shape[1] as number, 0, m.shape[3] as number];
      feeds[m.name] = m.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    }
    const out = (await s.run(feeds)).logits;
    const V = out.dims[2];
    const row = Float64Array.from({ length: V }, (_, v) => {
      const x = out.data[(n - 1) * V + v] as number;
      return out.type === 'float16' ? halfToFloat(x) : x;
    });
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
    await s.release();
    return row.map((x) => x - lse);
  }

  for (const variant of ['fp32', 'fp16', 'q4', 'q4f16', 'int8', 'bnb4'] as ConcreteVariant[]) {
    describe(variant, function () {
      let lm: LoadedModel;
      before(async function () {
        lm = await loadModel(dir, { variant });
      });

      it('explains with the numbers of a plain run of that file', async function () {
        const r = await explain({ text: PROMPT, methods: ['occlusion'], target: { kind: 'next-token' } }, lm);
        assert.equal(r.model.variant?.name, variant);
        const ids = r.input.tokens.map((t) => t.id);
        const lp = await plainLogProbs(path.join(dir, 'onnx', variantFileName(variant)), ids);
        const row = r.target.rows[0];
        assert.ok(Math.abs(row.logProb - lp[row.tokenId]) < 1e-4, `${row.logProb} vs ${lp[row.tokenId]}`);
        assert.ok(lp.every((x) => x <= lp[row.tokenId] + 1e-6), 'the target is the argmax of the plain run');
        // Every variant of the trained model still answers the prompt the same way.
        assert.equal(lm.tokenizer.tokenText(row.tokenId), ' Paris');
      });

      it('differentiates the variant: score equals its forward log-probability, gradient matches central differences', async function () {
        await ensureGradients(lm, cache);
        const g = lm.runner.gradients!;
        const ids = lm.tokenizer.encodePrompt(PROMPT).map((t) => t.id);
        const target = { tokenIds: [lm.tokenizer.encodeContinuation(' Paris')[0]], positions: [ids.length - 1], weights: [1] };
        const e = g.embed(ids);
        const [base] = await g.scoreAndGradient([{ inputsEmbeds: e, inputIds: ids, target }]);
        const fwd = (await lm.runner.score([{ inputIds: ids, queries: [{ position: ids.length - 1, tokenId: target.tokenIds[0] }] }]))[0][0].logProb;
        // The gradient graph computes in fp32 from dequantised weights; the variant's own kernels may round
        // activations to fp16 or accumulate differently, so agreement is to a few hundredths.
        assert.ok(Math.abs(base.score - fwd) < 0.05, `gradient-graph score ${base.score} vs forward ${fwd}`);
        // Directional derivative along a fixed direction vs a central difference of the same graph's score.
        const d = Float32Array.from(e, (_, i) => Math.sin(i * 1.7 + 0.3));
        const h = 1e-3;
        const shifted = (sign: number) => Float32Array.from(e, (x, i) => x + sign * h * d[i]);
        const [plus, minus] = await g.scoreAndGradient([{ inputsEmbeds: shifted(1), inputIds: ids, target }, { inputsEmbeds: shifted(-1), inputIds: ids, target }]);
        const fd = (plus.score - minus.score) / (2 * h);
        const an = base.grad.reduce((s, x, i) => s + x * d[i], 0);
        assert.ok(Math.abs(fd - an) <= 2e-2 * Math.max(1, Math.abs(fd)), `directional derivative ${an} vs central difference ${fd}`);
        const r = await explain({ text: PROMPT, methods: ['integrated-gradients'], target: { kind: 'next-token' } }, lm);
        assert.ok(r.runs[0].diagnostics.completenessGap![0] < 0.1);
      });
    });
  }
});
