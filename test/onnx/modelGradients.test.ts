/**
 * Whole-model gradients w.r.t. inputs_embeds: vs central finite differences (Richardson-extrapolated,
 * along random and gradient-aligned unit directions) on the bundled models and the real-world fixtures, and
 * vs PyTorch autograd references for the bundled models.
 */
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../../src/onnx/modelFile';
import { buildGradientModel, GRADIENT_OUTPUT } from '../../src/onnx/gradientModel';
import { checkModelGradient, embedIds, feedsFor, smoothTinyLayerNorms } from './modelGradientCheck';
import { bundled, realExport, skipUnless } from './fixtures';

const FD_TOLERANCE = 1e-3;

function assertFd(r: { maxRelErr: number; details: string[]; gradNorm: number }): void {
  assert.ok(r.gradNorm > 0, 'gradient is identically zero: the check would be vacuous');
  assert.ok(r.maxRelErr < FD_TOLERANCE, `max relative error ${r.maxRelErr.toExponential(2)}\n${r.details.join('\n')}`);
}

interface ReferenceItem {
  input_ids: number[];
  target: { kind: string; token_id?: number; class_id?: number; label_id?: number };
  score: number;
  grad_inputs_embeds: number[][];
}

async function checkReference(onnx: string, referencePath: string, kind: 'causal-lm' | 'sequence-classifier'): Promise<void> {
  const ref = JSON.parse(fs.readFileSync(referencePath, 'utf8')) as { items: ReferenceItem[] };
  const m = buildGradientModel(loadModel(onnx), { kind, classScore: 'logit' });
  const sess = await ort.InferenceSession.create(m.bytes);
  let worst = 0;
  for (const it of ref.items) {
    const ids = it.input_ids;
    const id = it.target.token_id ?? it.target.class_id ?? it.target.label_id;
    assert.ok(id !== undefined, `reference target has no token/class id: ${JSON.stringify(it.target)}`);
    const x = { ids, targetIds: [id], targetPositions: [kind === 'causal-lm' ? ids.length - 1 : 0], targetWeights: [1] };
    const r = await sess.run(feedsFor(m, embedIds(m, ids), x));
    const g = r[GRADIENT_OUTPUT].data as Float32Array;
    const refG = it.grad_inputs_embeds.flat();
    assert.strictEqual(g.length, refG.length);
    let num = 0, den = 0;
    for (let k = 0; k < g.length; k++) { num += (g[k] - refG[k]) ** 2; den += refG[k] ** 2; }
    const rel = Math.sqrt(num / den);
    worst = Math.max(worst, rel);
    assert.ok(Math.abs(Number((r.score.data as Float32Array)[0]) - it.score) < 1e-3 * Math.max(1, Math.abs(it.score)), `score ${r.score.data} vs ${it.score}`);
    assert.ok(rel < 1e-3, `gradient relative error ${rel.toExponential(2)} for ${JSON.stringify(ids)}`);
  }
  console.log(`      worst relative gradient error vs PyTorch: ${worst.toExponential(2)} over ${ref.items.length} items`);
}

describe('whole-model gradients', function () {
  this.timeout(120000);

  describe('bundled promptscope-tiny-lm (GPT-2, torch opset 14)', () => {
    it('matches central finite differences (two weighted targets)', async function () {
      const b = skipUnless(this, bundled('promptscope-tiny-lm'), 'models/promptscope-tiny-lm');
      assertFd(await checkModelGradient(b.onnx, { kind: 'causal-lm' }, { ids: [271, 305, 279, 1129, 264, 42, 7], targetIds: [264, 10], targetPositions: [6, 2], targetWeights: [1, -0.5] }));
    });
    it('matches the PyTorch autograd reference', async function () {
      const b = skipUnless(this, bundled('promptscope-tiny-lm'), 'models/promptscope-tiny-lm');
      await checkReference(b.onnx, skipUnless(this, b.reference, 'promptscope-tiny-lm reference.json'), 'causal-lm');
    });
  });

  describe('bundled promptscope-tiny-sentiment (BERT classifier)', () => {
    it('matches central finite differences', async function () {
      const b = skipUnless(this, bundled('promptscope-tiny-sentiment'), 'models/promptscope-tiny-sentiment');
      assertFd(await checkModelGradient(b.onnx, { kind: 'sequence-classifier' }, { ids: [2, 15, 99, 300, 17, 3], targetIds: [1], targetPositions: [0], targetWeights: [1] }));
    });
    it('matches the PyTorch autograd reference', async function () {
      const b = skipUnless(this, bundled('promptscope-tiny-sentiment'), 'models/promptscope-tiny-sentiment');
      await checkReference(b.onnx, skipUnless(this, b.reference, 'promptscope-tiny-sentiment reference.json'), 'sequence-classifier');
    });
  });

  describe('real-world exports', () => {
    it('optimum distilbert classifier (opset 11, plain ops) matches finite differences', async function () {
      const p = skipUnless(this, realExport('optimum-tiny-distilbert-sst2/model.onnx'), 'optimum-tiny-distilbert-sst2 fixture');
      // Hidden size 2 makes LayerNorm piecewise constant (zero gradient); smoothTinyLayerNorms raises its epsilon.
      const x = { ids: [101, 7, 99, 300, 5, 102], targetIds: [1], targetPositions: [0], targetWeights: [1] };
      assertFd(await checkModelGradient(p, { kind: 'sequence-classifier', classScore: 'logit' }, x, { prepare: (m) => smoothTinyLayerNorms(m) }));
      // Also through the pre-classifier Gemm output (before the ReLU that zeroes this random model's logit gradient).
      assertFd(await checkModelGradient(p, { kind: 'sequence-classifier', logits: '297' }, { ...x, targetIds: [0] }, { prepare: (m) => smoothTinyLayerNorms(m) }));
    });
    it('onnxruntime-genai fused GPT-2 (EmbedLayerNormalization, Attention, SkipLayerNormalization, FastGelu) matches finite differences', async function () {
      const p = skipUnless(this, realExport('genai-tiny-random-gpt2-fused/past.onnx'), 'genai-tiny-random-gpt2-fused fixture');
      const m = buildGradientModel(loadModel(p), { kind: 'causal-lm' });
      // The cut sits at the word-embedding output: the position embeddings stay inside the graph.
      assert.deepStrictEqual([m.vocabSize, m.hiddenSize], [1000, 32]);
      assert.ok(m.inputs.some((i) => i.name === 'position_ids') && !m.inputs.some((i) => /past|input_ids/.test(i.name)), JSON.stringify(m.inputs));
      assertFd(await checkModelGradient(p, { kind: 'causal-lm' }, { ids: [5, 17, 300, 2, 999, 42], targetIds: [300, 11], targetPositions: [5, 2], targetWeights: [1, -0.5] }));
    });
    it('onnxruntime-genai fp16 Llama (MultiHeadAttention, RotaryEmbedding, RMSNorm; external data) matches finite differences in fp32', async function () {
      const p = skipUnless(this, realExport('genai-tiny-random-llama-fp16/model.onnx'), 'genai-tiny-random-llama-fp16 fixture');
      // Its random embeddings are tiny (|row| ≈ 0.05) and RMSNorm is scale-invariant, so the score curves on that
      // scale: the difference step must be well below it (at 1e-2 the O(h⁴) term still dominates).
      assertFd(await checkModelGradient(p, { kind: 'causal-lm' }, { ids: [1, 500, 31999, 7, 12000, 3], targetIds: [31999, 11], targetPositions: [5, 2], targetWeights: [1, -0.5] }, { eps: 3e-4 }));
    });
  });
});
