/**
 * Un-fusing com.microsoft ops: (1) forward outputs of one-node graphs vs onnxruntime's fused kernels,
 * (2) gradients through the un-fused ops vs central finite differences, (3) every fused node inside the real
 * onnxruntime-genai exports vs its un-fused replacement, on the model's own activations.
 */
import * as assert from 'node:assert';
import { F, I, AttrValue } from '../../src/onnx/graph';
import { loadModel } from '../../src/onnx/modelFile';
import { unfuseContribOps } from '../../src/onnx/contribUnfuse';
import { Graph } from '../../src/onnx/graph';
import { appendGradients, UnsupportedGradientError } from '../../src/onnx/gradients';
import { DataType } from '../../src/onnx/tensorData';
import { checkOpGradient, InputSpec } from './fdHarness';
import { compareSingleOp, OpInput } from './singleOpUnfuse';
import { compareUnfused, decoderFeeds } from './unfuseHarness';
import { realExport, skipUnless } from './fixtures';

const f = (...dims: number[]): OpInput => ({ dims });
const w = (...dims: number[]): OpInput => ({ dims, constant: true });
const skip: OpInput = { dims: [], skip: true };
const i32 = (dims: number[], ints: number[]): OpInput => ({ dims, ints });
const i64 = (dims: number[], ints: number[]): OpInput => ({ dims, ints, type: DataType.INT64 });
const FLOAT = DataType.FLOAT, INT32 = DataType.INT32;

/** [title, op, inputs, attrs, output element types (0 = slot not requested)] */
type ForwardCase = [string, string, OpInput[], Record<string, AttrValue>, number[]];

const ids = i32([2, 3], [1, 5, 9, 0, 2, 3]);
const pos = i64([2, 3], [0, 1, 2, 4, 5, 6]);
const forwardCases: ForwardCase[] = [
  ['Gelu', 'Gelu', [f(2, 3, 8)], {}, [FLOAT]],
  ['BiasGelu', 'BiasGelu', [f(2, 3, 8), w(8)], {}, [FLOAT]],
  ['FastGelu with bias', 'FastGelu', [f(2, 3, 8), w(8)], {}, [FLOAT]],
  ['FastGelu without bias', 'FastGelu', [f(2, 3, 8)], {}, [FLOAT]],
  ['QuickGelu', 'QuickGelu', [f(2, 3, 8)], { alpha: F(1.5) }, [FLOAT]],
  ['SkipLayerNormalization with beta, bias and sum output', 'SkipLayerNormalization', [f(2, 3, 8), f(2, 3, 8), w(8), w(8), w(8)], { epsilon: F(1e-5) }, [FLOAT, 0, 0, FLOAT]],
  ['SkipSimplifiedLayerNormalization with sum output', 'SkipSimplifiedLayerNormalization', [f(2, 3, 8), f(2, 3, 8), w(8)], { epsilon: F(1e-6) }, [FLOAT, 0, 0, FLOAT]],
  ['EmbedLayerNormalization, default positions', 'EmbedLayerNormalization', [ids, skip, w(10, 8), w(16, 8), skip, w(8), w(8)], { epsilon: F(1e-5) }, [FLOAT, INT32, FLOAT]],
  ['EmbedLayerNormalization, segments and position_ids', 'EmbedLayerNormalization', [ids, i32([2, 3], [0, 0, 1, 0, 1, 1]), w(10, 8), w(16, 8), w(2, 8), w(8), w(8), skip, i32([2, 3], [3, 4, 5, 0, 1, 2])], { epsilon: F(1e-5) }, [FLOAT, INT32, FLOAT]],
  ['RotaryEmbedding 3-D, half split', 'RotaryEmbedding', [f(2, 3, 16), pos, w(10, 4), w(10, 4)], {}, [FLOAT]],
  ['RotaryEmbedding 3-D, interleaved', 'RotaryEmbedding', [f(2, 3, 16), pos, w(10, 4), w(10, 4)], { interleaved: I(1) }, [FLOAT]],
  ['RotaryEmbedding 4-D', 'RotaryEmbedding', [f(2, 2, 3, 8), pos, w(10, 4), w(10, 4)], {}, [FLOAT]],
  ['RotaryEmbedding partial rotary dim', 'RotaryEmbedding', [f(2, 3, 16), pos, w(10, 2), w(10, 2)], { num_heads: I(2), rotary_embedding_dim: I(4) }, [FLOAT]],
  ['RotaryEmbedding start-offset position', 'RotaryEmbedding', [f(2, 3, 16), i64([1], [2]), w(10, 4), w(10, 4)], { interleaved: I(1) }, [FLOAT]],
  ['Attention causal, 2-D mask, past', 'Attention', [f(2, 3, 8), w(8, 24), w(24), i32([2, 5], [1, 1, 1, 1, 1, 1, 0, 1, 1, 1]), f(2, 2, 2, 2, 4)], { num_heads: I(2), unidirectional: I(1), mask_filter_value: F(-3.4028234663852886e38) }, [FLOAT, FLOAT]],
  ['Attention bidirectional, 2-D mask', 'Attention', [f(2, 3, 8), w(8, 24), w(24), i32([2, 3], [1, 1, 0, 1, 1, 1])], { num_heads: I(2) }, [FLOAT]],
  ['Attention 1-D lengths mask', 'Attention', [f(2, 3, 8), w(8, 24), w(24), i32([2], [2, 3])], { num_heads: I(2) }, [FLOAT]],
  ['MultiHeadAttention bias, padding mask, attention bias, past', 'MultiHeadAttention', [f(2, 3, 8), f(2, 3, 8), f(2, 3, 8), w(24), i32([2, 5], [1, 1, 1, 1, 1, 0, 1, 1, 1, 1]), f(1, 2, 3, 5), f(2, 2, 2, 4), f(2, 2, 2, 4)], { num_heads: I(2) }, [FLOAT, FLOAT, FLOAT]],
  ['MultiHeadAttention causal, custom scale', 'MultiHeadAttention', [f(2, 3, 8), f(2, 3, 8), f(2, 3, 8), skip, skip, f(2, 1, 3, 3)], { num_heads: I(2), unidirectional: I(1), scale: F(0.3) }, [FLOAT]],
  ['GroupQueryAttention, 2 query heads per KV head', 'GroupQueryAttention', [f(1, 3, 64), f(1, 3, 32), f(1, 3, 32), skip, skip, i32([1], [2]), i32([], [3])], { num_heads: I(4), kv_num_heads: I(2) }, [FLOAT, FLOAT, FLOAT]],
  ['GroupQueryAttention with rotary', 'GroupQueryAttention', [f(1, 3, 64), f(1, 3, 32), f(1, 3, 32), skip, skip, i32([1], [2]), i32([], [3]), w(10, 8), w(10, 8)], { num_heads: I(4), kv_num_heads: I(2), do_rotary: I(1) }, [FLOAT, FLOAT, FLOAT]],
  ['GroupQueryAttention interleaved rotary, padded row', 'GroupQueryAttention', [f(2, 3, 64), f(2, 3, 32), f(2, 3, 32), skip, skip, i32([2], [2, 1]), i32([], [3]), w(10, 8), w(10, 8)], { num_heads: I(4), kv_num_heads: I(2), do_rotary: I(1), rotary_interleaved: I(1) }, [FLOAT, FLOAT, FLOAT]],
];

const g = (...dims: number[]): InputSpec => ({ dims });
const k = (...dims: number[]): InputSpec => ({ dims, constant: true });
const idx64 = (dims: number[], v: number[]): InputSpec => ({ dims, data: BigInt64Array.from(v.map(BigInt)) });
/** [title, op, inputs, attrs] — gradients of the un-fused graph w.r.t. every float graph input. */
const gradientCases: [string, string, InputSpec[], Record<string, AttrValue>, { eps?: number }?][] = [
  ['Gelu', 'Gelu', [g(2, 3, 8)], {}],
  ['FastGelu', 'FastGelu', [g(2, 3, 8), g(8)], {}],
  ['QuickGelu', 'QuickGelu', [g(2, 3, 8)], { alpha: F(1.7) }],
  ['SkipLayerNormalization', 'SkipLayerNormalization', [g(2, 3, 8), g(2, 3, 8), k(8), k(8), g(8)], { epsilon: F(1e-5) }],
  ['SkipSimplifiedLayerNormalization', 'SkipSimplifiedLayerNormalization', [g(2, 3, 8), g(2, 3, 8), k(8)], { epsilon: F(1e-6) }],
  ['RotaryEmbedding half split', 'RotaryEmbedding', [g(2, 3, 16), idx64([2, 3], [0, 1, 2, 4, 5, 6]), k(10, 4), k(10, 4)], {}],
  ['RotaryEmbedding interleaved, partial', 'RotaryEmbedding', [g(2, 3, 16), idx64([2, 3], [0, 1, 2, 4, 5, 6]), k(10, 2), k(10, 2)], { interleaved: I(1), num_heads: I(2), rotary_embedding_dim: I(4) }],
  // Three products of the input with itself: a smaller step keeps the O(ε²) truncation error below tolerance.
  ['Attention causal', 'Attention', [g(2, 3, 8), k(8, 24), k(24)], { num_heads: I(2), unidirectional: I(1) }, { eps: 2e-3 }],
  ['MultiHeadAttention causal with bias', 'MultiHeadAttention', [g(2, 3, 8), g(2, 3, 8), g(2, 3, 8), k(24)], { num_heads: I(2), unidirectional: I(1) }],
  ['GroupQueryAttention with rotary', 'GroupQueryAttention', [g(1, 3, 32), g(1, 3, 16), g(1, 3, 16), { dims: [], skip: true }, { dims: [], skip: true }, { dims: [], skip: true }, { dims: [], skip: true }, k(10, 4), k(10, 4)], { num_heads: I(4), kv_num_heads: I(2), do_rotary: I(1) }],
];

describe('un-fusing com.microsoft ops', function () {
  this.timeout(120000);

  describe('one-node graphs: un-fused outputs equal onnxruntime\'s fused kernels (max abs error ≤ 1e-5)', () => {
    for (const [title, op, inputs, attrs, outputs] of forwardCases) {
      it(`${op}: ${title}`, async () => {
        const errs = await compareSingleOp(op, inputs, attrs, outputs);
        for (const e of errs) assert.ok(e <= 1e-5, `max abs error ${e.toExponential(2)}`);
      });
    }
    it('the comparison can fail (a changed attention scale is caught)', async () => {
      const errs = await compareSingleOp('MultiHeadAttention', [f(2, 3, 8), f(2, 3, 8), f(2, 3, 8)], { num_heads: I(2) }, [FLOAT], {
        tamper: (gr) => { for (const n of gr.nodes) if (n.opType === 'Softmax') n.opType = 'LogSoftmax'; },
      });
      assert.ok(errs[0] > 1e-2, `expected a large error, got ${errs[0]}`);
    });
  });

  describe('gradients through un-fused ops vs central finite differences', () => {
    for (const [title, op, inputs, attrs, o] of gradientCases) {
      it(`${op}: ${title}`, async () => {
        const r = await checkOpGradient(op, inputs, attrs, { ...o, domain: 'com.microsoft', prepare: (gr) => { gr.opsets.set('com.microsoft', 1); unfuseContribOps(gr); } });
        assert.ok(r.maxRelErr < 2e-3, `relative error ${r.maxRelErr.toExponential(2)} (${r.worst})`);
      });
    }
  });

  it('a contrib op without a rewrite on the differentiated path is refused, naming it', () => {
    const gr = new Graph();
    gr.opsets.set('', 17);
    gr.inputs.push({ name: 'x', elemType: FLOAT, dims: [2, 3] });
    const y = gr.op('BiasSoftmax', ['x', gr.constF32([0, 0, 0], [3])], {}, 'com.microsoft');
    const s = gr.op('ReduceSum', [gr.op('Gelu', [y], {}, 'com.microsoft')], { keepdims: I(0) });
    gr.outputs = [{ name: s, elemType: FLOAT, dims: [] }];
    unfuseContribOps(gr);
    assert.throws(() => appendGradients(gr, { ys: [s], wrt: ['x'] }), (e: Error) => e instanceof UnsupportedGradientError && /com\.microsoft:BiasSoftmax/.test(e.message) && !/Gelu/.test(e.message));
  });

  describe('every fused node in the real exports vs its un-fused replacement', () => {
    it('onnxruntime-genai fused GPT-2 (fp32): max abs error ≤ 1e-5 with and without a KV cache', async function () {
      const p = skipUnless(this, realExport('genai-tiny-random-gpt2-fused/past.onnx'), 'genai-tiny-random-gpt2-fused fixture');
      const model = loadModel(p);
      for (const past of [0, 3]) {
        const diffs = await compareUnfused(model, (gr) => decoderFeeds(gr, [5, 17, 300, 2, 999, 42], past));
        const ops = new Set(diffs.map((d) => d.op));
        for (const op of ['EmbedLayerNormalization', 'Attention', 'SkipLayerNormalization', 'FastGelu']) assert.ok(ops.has(op), `no ${op} compared`);
        for (const d of diffs) assert.ok(d.maxAbsErr <= 1e-5, `${d.op} ${d.output} (past ${past}): ${d.maxAbsErr.toExponential(2)}`);
      }
    });
    // fp16 kernels round every intermediate to 11 significant bits (relative step 2⁻¹¹ ≈ 4.9e-4), while the
    // un-fused graph runs in fp32: allow 2e-3 of each output's largest magnitude (observed ≤ 8e-4).
    it('onnxruntime-genai Llama (fp16 kernels vs fp32 un-fused): max abs error ≤ 2e-3 × max |output|', async function () {
      const p = skipUnless(this, realExport('genai-tiny-random-llama-fp16/model.onnx'), 'genai-tiny-random-llama-fp16 fixture');
      const model = loadModel(p);
      // This export's own mask subgraph accepts a cache only for single-token steps, so the cached case uses S = 1.
      for (const [past, tokens] of [[0, [1, 500, 31999, 7, 12000, 3]], [3, [77]]] as const) {
        const diffs = await compareUnfused(model, (gr) => decoderFeeds(gr, [...tokens], past));
        const ops = new Set(diffs.map((d) => d.op));
        for (const op of ['MultiHeadAttention', 'RotaryEmbedding', 'SkipSimplifiedLayerNormalization']) assert.ok(ops.has(op), `no ${op} compared`);
        for (const d of diffs) assert.ok(d.maxAbsErr <= 2e-3 * Math.max(1, d.maxAbs), `${d.op} ${d.output} (past ${past}): ${d.maxAbsErr.toExponential(2)} of ${d.maxAbs}`);
      }
    });
  });
});
