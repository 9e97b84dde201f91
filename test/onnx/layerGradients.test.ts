/**
 * Cut at any layer: the gradient of the score w.r.t. the residual stream after every block vs central finite
 * differences at that depth, on the bundled models, the real-world exports and the decoder architectures of
 * models/build/arch_models.py (when built); the stream found has the model's hidden size at every depth.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildLayerGradientModel, layerOutputOf } from '../../src/onnx/layerGradientModel';
import { loadModel } from '../../src/onnx/modelFile';
import { checkLayerGradients, layerFeeds, SMALL_GRAPH_NODES, type LayerCheck } from './layerGradientCheck';
import { smoothTinyLayerNorms } from './modelGradientCheck';
import { bundled, realExport, skipUnless } from './fixtures';

const FD_TOLERANCE = 1e-3;
const ARCH_MODELS = process.env.PROMPTSCOPE_ARCH_MODELS ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'promptscope', 'arch-models');

function assertChecks(checks: LayerCheck[], layers: number): void {
  assert.deepEqual(checks.map((c) => c.stream), Array.from({ length: layers + 1 }, (_, s) => s));
  for (const c of checks) {
    assert.ok(c.gradNorm > 0 && c.activationNorm > 0, `stream ${c.stream}: a zero gradient or activation would make the check vacuous`);
    assert.ok(c.maxRelErr < FD_TOLERANCE, `stream ${c.stream}: relative error ${c.maxRelErr.toExponential(2)}\n${c.details.join('\n')}`);
  }
}

describe('layer gradients (residual stream after every block)', function () {
  this.timeout(120000);

  it('bundled promptscope-tiny-lm (GPT-2): every depth matches central differences', async function () {
    const b = skipUnless(this, bundled('promptscope-tiny-lm'), 'models/promptscope-tiny-lm');
    const r = await checkLayerGradients(b.onnx, { kind: 'causal-lm', layers: 4 }, { ids: [271, 305, 279, 1129, 264, 42, 7], targetIds: [264, 10], targetPositions: [6, 2], targetWeights: [1, -0.5] });
    assert.equal(r.model.hiddenSize, 192);
    assertChecks(r.checks, 4);
  });

  it('bundled promptscope-tiny-sentiment (post-norm BERT): every depth matches central differences', async function () {
    const b = skipUnless(this, bundled('promptscope-tiny-sentiment'), 'models/promptscope-tiny-sentiment');
    const r = await checkLayerGradients(b.onnx, { kind: 'sequence-classifier', classScore: 'logit', layers: 2 }, { ids: [2, 15, 99, 300, 17, 3], targetIds: [1], targetPositions: [0], targetWeights: [1] }, { eps: 1e-2 });
    assertChecks(r.checks, 2);
  });

  it('optimum distilbert classifier (opset 11, decomposed LayerNorm) matches central differences', async function () {
    const p = skipUnless(this, realExport('optimum-tiny-distilbert-sst2/model.onnx'), 'optimum-tiny-distilbert-sst2 fixture');
    // Hidden size 2: LayerNorm is piecewise constant unless its epsilon is raised (see smoothTinyLayerNorms).
    const r = await checkLayerGradients(p, { kind: 'sequence-classifier', classScore: 'logit', layers: 2 }, { ids: [101, 7, 99, 300, 5, 102], targetIds: [1], targetPositions: [0], targetWeights: [1] }, { eps: 1e-2, prepare: (m) => smoothTinyLayerNorms(m) });
    assertChecks(r.checks, 2);
  });

  it('onnxruntime-genai fused GPT-2 (SkipLayerNormalization residuals) matches central differences', async function () {
    const p = skipUnless(this, realExport('genai-tiny-random-gpt2-fused/past.onnx'), 'genai-tiny-random-gpt2-fused fixture');
    const r = await checkLayerGradients(p, { kind: 'causal-lm', layers: 5 }, { ids: [5, 17, 300, 2, 999, 42], targetIds: [300, 11], targetPositions: [5, 2], targetWeights: [1, -0.5] });
    assertChecks(r.checks, 5);
  });

  it('onnxruntime-genai fp16 Llama (SkipSimplifiedLayerNormalization residuals) matches central differences in fp32', async function () {
    const p = skipUnless(this, realExport('genai-tiny-random-llama-fp16/model.onnx'), 'genai-tiny-random-llama-fp16 fixture');
    const r = await checkLayerGradients(p, { kind: 'causal-lm', layers: 2 }, { ids: [1, 500, 31999, 7, 12000, 3], targetIds: [31999, 11], targetPositions: [5, 2], targetWeights: [1, -0.5] });
    assertChecks(r.checks, 2);
  });

  for (const name of ['llama3-tiny', 'qwen2-tiny', 'phi3-tiny', 'gemma-tiny']) {
    it(`${name} (models/build/arch_models.py) matches central differences`, async function () {
      const dir = path.join(ARCH_MODELS, name);
      const onnx = skipUnless(this, fs.existsSync(path.join(dir, 'build-format')) ? path.join(dir, 'onnx', 'model.onnx') : undefined, `${name} (built by test/runtime/architectures.test.ts)`);
      const layers = (JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { num_hidden_layers: number }).num_hidden_layers;
      const r = await checkLayerGradients(onnx, { kind: 'causal-lm', layers }, { ids: [1, 50, 301, 7, 120, 3], targetIds: [301, 11], targetPositions: [5, 2], targetWeights: [1, -0.5] });
      assertChecks(r.checks, layers);
    });
  }
});

describe('small layer graphs: transposed weights, every depth in one output', function () {
  this.timeout(60000);

  it('has fewer nodes than the general form and gives the same score, activations and gradients (tiny LM)', async function () {
    const b = skipUnless(this, bundled('promptscope-tiny-lm'), 'models/promptscope-tiny-lm');
    const x = { ids: [271, 305, 279, 1129, 264, 42, 7], targetIds: [264], targetPositions: [6], targetWeights: [1] };
    const opts = { kind: 'causal-lm' as const, layers: 4 };
    const small = buildLayerGradientModel(loadModel(b.onnx), { ...opts, smallGraphNodes: SMALL_GRAPH_NODES });
    const general = buildLayerGradientModel(loadModel(b.onnx), opts);
    assert.equal(small.concatenated, true);
    assert.equal(general.concatenated, false);
    // Every depth in one output. (The linear layers' backward products are one FusedMatMul(transB) of the batch in both
    // forms, without reshapes to and from 2-D, so there are no Gemms left to turn into MatMuls by transposed weights.)
    assert.ok(small.nodes < general.nodes, `${small.nodes} nodes vs ${general.nodes}`);
    const [rs, rg] = await Promise.all([small, general].map(async (m) => (await ort.InferenceSession.create(m.bytes)).run(layerFeeds(m, x))));
    assert.equal((rs.score.data as Float32Array)[0], (rg.score.data as Float32Array)[0]);
    const size = x.ids.length * small.hiddenSize;
    for (let s = 0; s <= 4; s++) {
      for (const which of ['grad', 'activation'] as const) {
        const a = layerOutputOf(true, (n) => rs[n].data as Float32Array, s, which, 0, 1, size);
        const c = layerOutputOf(false, (n) => rg[n].data as Float32Array, s, which, 0, 1, size);
        const scale = Math.max(...c.map(Math.abs));
        assert.ok(a.length === size && c.length === size && scale > 0, `stream ${s} ${which}`);
        assert.ok(a.every((v, i) => Math.abs(v - c[i]) <= 1e-5 * scale), `stream ${s} ${which} differs`);
      }
    }
  });
});
