/**
 * Quantised weights: DequantizeLinear folding, MatMulNBits dequantisation and straight-through dynamic
 * quantisation. Each case checks what the rewrite owns, on any CPU: (1) the rewritten forward against
 * onnxruntime on the quantised graph — within the fp32 dot-product bound where the rewrite folds the weights,
 * ≤ 1e-6 of max |y| where the quantised nodes themselves still run; (2) for folded weights, the rewritten
 * forward against an exact float64 reference dequantised from the test's own integers, within the same bound;
 * (3) the gradient against central differences of that exact reference (relative norm ≤ 1e-4). onnxruntime's
 * integer kernels are never compared with a reference: their rounding and saturation differ by CPU.
 */
import * as assert from 'node:assert';
import { Graph, I } from '../../src/onnx/graph';
import { DataType } from '../../src/onnx/tensorData';
import { loadModel } from '../../src/onnx/modelFile';
import { ModelProto } from '../../src/onnx/onnxProto';
import { buildGradientGraph } from '../../src/onnx/gradientModel';
import { checkQuantized, QuantCheck } from './quantHarness';
import { checkModelGradient } from './modelGradientCheck';
import { rng } from './fdHarness';
import { bundled, skipUnless } from './fixtures';
import { quantizeMatMulWeightsInt8 } from './quantizeModel';

const K = 40, N = 6;
const rand = rng(11);
const W = Float32Array.from({ length: K * N }, () => rand() * 2 - 1); // row-major [K, N]

/** Per-column affine quantisation of W: q = round(w / s) + z, clamped to [lo, hi]. */
function quantColumns(lo: number, hi: number, symmetric: boolean): { q: number[]; s: number[]; z: number[] } {
  const s: number[] = [], z: number[] = [], q = new Array<number>(K * N);
  for (let c = 0; c < N; c++) {
    let mn = Infinity, mx = -Infinity;
    for (let k = 0; k < K; k++) { mn = Math.min(mn, W[k * N + c]); mx = Math.max(mx, W[k * N + c]); }
    if (symmetric) { s.push(Math.max(-mn, mx) / hi); z.push(0); }
    else { s.push((mx - mn) / (hi - lo)); z.push(Math.round(lo - mn / s[c])); }
    for (let k = 0; k < K; k++) q[k * N + c] = Math.min(hi, Math.max(lo, Math.round(W[k * N + c] / s[c]) + z[c]));
  }
  return { q, s, z };
}

const int8 = (g: Graph, v: number[], dims: number[]): string => g.constTensor('q', DataType.INT8, dims, Int8Array.from(v));
const uint8 = (g: Graph, v: number[], dims: number[]): string => g.constTensor('q', DataType.UINT8, dims, Uint8Array.from(v));
const f32 = (g: Graph, v: number[] | Float32Array, dims: number[]): string => g.constTensor('w', DataType.FLOAT, dims, Float32Array.from(v));

/** Folded weights: the rewrite runs fp32 MatMuls, so both forward checks are fp32 rounding bounds. */
function expectFolded(r: QuantCheck): void {
  console.log(`      forward ${r.forwardBoundRatio.toFixed(3)} and exact ${r.exactBoundRatio.toFixed(3)} of the fp32 bound, gradient ${r.gradErr.toExponential(1)}`);
  assert.ok(r.forwardBoundRatio <= 1, `forward differs from onnxruntime's quantised result by ${r.forwardBoundRatio.toFixed(2)}× the fp32 bound (${r.forwardErr.toExponential(2)} of max |y|)`);
  assert.ok(r.exactBoundRatio <= 1, `forward differs from the exact dequantised reference by ${r.exactBoundRatio.toFixed(2)}× the fp32 bound`);
  assert.ok(r.gradErr < 1e-4, `gradient vs central differences of the exact reference: ${r.gradErr.toExponential(2)}`);
}

/** Straight-through: the quantised nodes run as they are, so the forward is onnxruntime's own kernels on both sides. */
function expectStraightThrough(r: QuantCheck): void {
  console.log(`      forward ${r.forwardErr.toExponential(1)}, gradient ${r.gradErr.toExponential(1)}`);
  assert.strictEqual(r.counts.straightThrough, 1);
  assert.ok(r.forwardErr <= 1e-6, `forward differs from onnxruntime's quantised result by ${r.forwardErr.toExponential(2)} of max |y|`);
  assert.ok(r.gradErr < 1e-4, `gradient vs central differences of the exact dequantised reference: ${r.gradErr.toExponential(2)}`);
}

describe('quantised weights', () => {
  describe('DequantizeLinear of constants', () => {
    it('per tensor, int8 with a zero point', async () => {
      const s = 0.011, z = 3;
      const q = Array.from(W, (w) => Math.max(-128, Math.min(127, Math.round(w / s) + z)));
      const r = await checkQuantized({
        xDims: [2, 3, K],
        quantized: (g, x) => g.op('MatMul', [x, g.op('DequantizeLinear', [int8(g, q, [K, N]), g.scalarF32(s), g.constTensor('z', DataType.INT8, [], Int8Array.from([z]))])]),
        exact: { w: q.map((v) => (v - z) * s), k: K, n: N },
      });
      assert.strictEqual(r.counts.dequantizeLinear, 1);
      assert.ok(!r.ops.has('DequantizeLinear'));
      expectFolded(r);
    });

    it('per axis (output columns), uint8 with zero points', async () => {
      const { q, s, z } = quantColumns(0, 255, false);
      const r = await checkQuantized({
        xDims: [3, K],
        quantized: (g, x) => g.op('MatMul', [x, g.op('DequantizeLinear', [uint8(g, q, [K, N]), f32(g, s, [N]), uint8(g, z, [N])], { axis: I(1) })]),
        exact: { w: q.map((v, i) => (v - z[i % N]) * s[i % N]), k: K, n: N },
      });
      expectFolded(r);
    });

    it('blocked along K (opset 21 block_size), int8 with zero points', async () => {
      const B = 16, kb = Math.ceil(K / B); // K = 40: the last block is partial
      const s: number[] = [], z: number[] = [];
      for (let b = 0; b < kb; b++) for (let c = 0; c < N; c++) { s.push(0.005 + 0.003 * ((b + c) % 3)); z.push(((b * N + c) % 5) - 2); }
      const q = Array.from(W, (w, i) => {
        const k = Math.floor(i / N), c = i % N, j = Math.floor(k / B) * N + c;
        return Math.max(-128, Math.min(127, Math.round(w / s[j]) + z[j]));
      });
      const deq = q.map((v, i) => { const j = Math.floor(Math.floor(i / N) / B) * N + (i % N); return (v - z[j]) * s[j]; });
      const r = await checkQuantized({
        xDims: [2, K],
        opset: 21,
        quantized: (g, x) => g.op('MatMul', [x, g.op('DequantizeLinear', [int8(g, q, [K, N]), f32(g, s, [kb, N]), int8(g, z, [kb, N])], { axis: I(0), block_size: I(B) })]),
        exact: { w: deq, k: K, n: N },
      });
      expectFolded(r);
    });
  });

  describe('com.microsoft MatMulNBits', () => {
    /** 4-bit block-wise quantisation of Wᵀ ([N, K]) along K, packed two values per byte (low nibble first). */
    function nbits4(B: number, withZero: boolean) {
      const kb = Math.ceil(K / B), blob = B / 2;
      const packed = new Uint8Array(N * kb * blob), s: number[] = [], z: number[] = [], deq = new Float64Array(K * N);
      for (let n = 0; n < N; n++) for (let b = 0; b < kb; b++) {
        let mn = Infinity, mx = -Infinity;
        for (let k = b * B; k < Math.min(K, (b + 1) * B); k++) { mn = Math.min(mn, W[k * N + n]); mx = Math.max(mx, W[k * N + n]); }
        const sc = withZero ? (mx - mn) / 15 : Math.max(-mn, mx) / 7;
        const zp = withZero ? Math.min(15, Math.max(0, Math.round(-mn / sc))) : 8;
        s.push(sc); z.push(zp);
        for (let j = 0; j < B; j++) {
          const k = b * B + j;
          const v = k < K ? Math.min(15, Math.max(0, Math.round(W[k * N + n] / sc) + zp)) : 0;
          if (k < K) deq[k * N + n] = (v - zp) * sc;
          packed[(n * kb + b) * blob + (j >> 1)] |= v << ((j & 1) * 4);
        }
      }
      const zPacked = new Uint8Array(N * Math.ceil(kb / 2));
      for (let n = 0; n < N; n++) for (let b = 0; b < kb; b++) zPacked[n * Math.ceil(kb / 2) + (b >> 1)] |= z[n * kb + b] << ((b & 1) * 4);
      return { kb, blob, packed, s, z, zPacked, deq };
    }
    const bias = Array.from({ length: N }, (_, i) => 0.1 * i - 0.2);

    for (const zeroPoints of ['packed uint8', 'float', 'default (8)'] as const) {
      it(`4-bit, block 16 (partial last block), zero points: ${zeroPoints}, with bias`, async () => {
        const B = 16, nb = nbits4(B, zeroPoints !== 'default (8)');
        const r = await checkQuantized({
          xDims: [2, 3, K],
          quantized: (g, x) => {
            const zp = zeroPoints === 'packed uint8' ? g.constTensor('zp', DataType.UINT8, [N, Math.ceil(nb.kb / 2)], nb.zPacked)
              : zeroPoints === 'float' ? f32(g, nb.z, [N, nb.kb]) : '';
            return g.op('MatMulNBits', [x, g.constTensor('b', DataType.UINT8, [N, nb.kb, nb.blob], nb.packed), f32(g, nb.s, [N, nb.kb]), zp, '', f32(g, bias, [N])],
              { K: I(K), N: I(N), bits: I(4), block_size: I(B) }, 'com.microsoft');
          },
          exact: { w: nb.deq, k: K, n: N, bias },
        });
        assert.strictEqual(r.counts.matMulNBits, 1);
        assert.ok(!r.ops.has('MatMulNBits'));
        expectFolded(r);
      });
    }
  });

  describe('com.microsoft MatMulBnb4', () => {
    /** bitsandbytes' code books as onnxruntime lists them (blockwise_quant_block_bnb4.h). */
    const BOOKS: Record<number, number[]> = {
      0: [0, 5.208333333e-3, 0.66666667, 1, 0.33333333, 0.5, 0.16666667, 0.25, -0, -5.208333333e-3, -0.66666667, -1, -0.33333333, -0.5, -0.16666667, -0.25],
      1: [-1, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0,
        0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1],
    };
    /** Wᵀ flattened, blocks of B along the flat index, nearest code of w / absmax, first element in the high nibble. */
    function bnb4(B: number, quantType: number) {
      const book = BOOKS[quantType], numel = K * N, blocks = Math.ceil(numel / B);
      const wt = Array.from({ length: numel }, (_, i) => W[(i % K) * N + Math.floor(i / K)]);
      const absmax = Array.from({ length: blocks }, (_, b) => Math.max(...wt.slice(b * B, (b + 1) * B).map(Math.abs)));
      const packed = new Uint8Array(Math.ceil(numel / 2)), deq = new Float64Array(K * N);
      for (let i = 0; i < numel; i++) {
        const a = Math.fround(absmax[Math.floor(i / B)]);
        let code = 0;
        for (let c = 1; c < 16; c++) if (Math.abs(book[c] - wt[i] / a) < Math.abs(book[code] - wt[i] / a)) code = c;
        packed[i >> 1] |= i & 1 ? code : code << 4;
        deq[(i % K) * N + Math.floor(i / K)] = Math.fround(book[code]) * a;
      }
      return { packed, absmax, deq };
    }
    for (const [quantType, name] of [[0, 'FP4'], [1, 'NF4']] as const) {
      it(`${name}, block 32 (partial last block)`, async () => {
        const B = 32, q = bnb4(B, quantType);
        const r = await checkQuantized({
          xDims: [2, 3, K],
          quantized: (g, x) => g.op('MatMulBnb4', [x, g.constTensor('b', DataType.UINT8, [q.packed.length], q.packed), f32(g, q.absmax, [q.absmax.length])],
            { K: I(K), N: I(N), block_size: I(B), quant_type: I(quantType) }, 'com.microsoft'),
          exact: { w: q.deq, k: K, n: N },
        });
        assert.strictEqual(r.counts.matMulBnb4, 1);
        assert.ok(!r.ops.has('MatMulBnb4'));
        expectFolded(r);
      });
    }
  });

  describe('dynamic quantisation (straight-through gradient)', () => {
    const { q, s, z } = quantColumns(-127, 127, true);
    const deq = q.map((v, i) => (v - z[i % N]) * s[i % N]);
    const exact = { w: deq, k: K, n: N };

    it('DynamicQuantizeLinear + MatMulInteger + Cast + Mul(x_scale · w_scale)', async () => {
      const r = await checkQuantized({
        xDims: [2, 3, K],
        quantized: (g, x) => {
          const [xq, xs, xz] = g.add('DynamicQuantizeLinear', [x], {}, { outputs: 3 });
          const mi = g.op('MatMulInteger', [xq, int8(g, q, [K, N]), xz, int8(g, z, [N])]);
          return g.op('Mul', [g.op('Cast', [mi], { to: I(DataType.FLOAT) }), g.op('Mul', [xs, f32(g, s, [N])])]);
        },
        exact,
        linearScore: true,
      });
      expectStraightThrough(r);
    });

    it('com.microsoft DynamicQuantizeMatMul', async () => {
      const r = await checkQuantized({
        xDims: [3, K],
        quantized: (g, x) => g.op('DynamicQuantizeMatMul', [x, int8(g, q, [K, N]), f32(g, s, [N]), int8(g, z, [N])], {}, 'com.microsoft'),
        exact,
        linearScore: true,
      });
      expectStraightThrough(r);
    });

    it('com.microsoft MatMulIntegerToFloat after DynamicQuantizeLinear', async () => {
      const r = await checkQuantized({
        xDims: [3, K],
        quantized: (g, x) => {
          const [xq, xs, xz] = g.add('DynamicQuantizeLinear', [x], {}, { outputs: 3 });
          return g.op('MatMulIntegerToFloat', [xq, int8(g, q, [K, N]), xs, f32(g, s, [N]), xz, int8(g, z, [N])], {}, 'com.microsoft');
        },
        exact,
        linearScore: true,
      });
      expectStraightThrough(r);
    });
  });

  describe('bundled promptscope-tiny-lm with int8 weights (DequantizeLinear, per output column)', function () {
    this.timeout(120000);
    let quantized: ModelProto | undefined;
    const prepare = (m: ModelProto): ModelProto => (quantized ??= quantizeMatMulWeightsInt8(m));

    it('folds every DequantizeLinear and matches central finite differences', async function () {
      const b = skipUnless(this, bundled('promptscope-tiny-lm'), 'models/promptscope-tiny-lm');
      const q = prepare(loadModel(b.onnx));
      const dq = (q.graph?.node ?? []).filter((n) => n.op_type === 'DequantizeLinear').length;
      assert.ok(dq >= 16, `expected the block MatMuls to be quantised, got ${dq} DequantizeLinear nodes`);
      const { graph } = buildGradientGraph(q, { kind: 'causal-lm' });
      assert.ok(!graph.nodes.some((n) => n.opType === 'DequantizeLinear'));
      const r = await checkModelGradient(b.onnx, { kind: 'causal-lm' }, { ids: [271, 305, 279, 1129, 264, 42, 7], targetIds: [264, 10], targetPositions: [6, 2], targetWeights: [1, -0.5] }, { prepare });
      assert.ok(r.gradNorm > 0);
      assert.ok(r.maxRelErr < 1e-3, `max relative error ${r.maxRelErr.toExponential(2)}\n${r.details.join('\n')}`);
    });
  });
});
