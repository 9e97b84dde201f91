/**
 * Quantised-graph checks that hold on every CPU. onnxruntime picks its integer and fp32 kernels by CPU (VNNI,
 * AVX-512, AVX2's saturating u8·s8 pair sums, NEON), so its quantised result is not compared with a reference
 * of our own. What Promptscope owns is checked instead:
 *  - forward: the rewritten graph's value against onnxruntime running the quantised graph in the same session
 *    machinery, and (for folded weights) against an exact float64 reference within a derived fp32 bound;
 *  - gradient: directional derivatives against central differences of that exact reference, computed in
 *    float64 in the test from the integer weights, zero points and scales.
 */
import * as ort from 'onnxruntime-node';
import { Graph } from '../../src/onnx/graph';
import { encodeModel } from '../../src/onnx/onnxProto';
import { DataType } from '../../src/onnx/tensorData';
import { appendGradients } from '../../src/onnx/gradients';
import { foldQuantizedConstants, QuantizedFoldCounts } from '../../src/onnx/quantized';
import { rng } from './fdHarness';

/** y = x·W + b with W [K, N] row-major, dequantised in float64 from the integers the test quantised. */
export interface ExactLinear {
  w: ArrayLike<number>;
  k: number;
  n: number;
  bias?: ArrayLike<number>;
}

export interface QuantCase {
  xDims: number[];
  /** Default-domain opset (21 for blocked DequantizeLinear). */
  opset?: number;
  quantized: (g: Graph, x: string) => string;
  /** The function the rewrite must differentiate: the dequantised weights (the straight-through function). */
  exact: ExactLinear;
  /**
   * Score linear in y (Σ c·y, fixed c). Straight-through cases need it: their gradient is J_ref(x)ᵀ·∂score/∂y
   * at the quantised y, which equals the reference function's gradient only when ∂score/∂y is constant.
   */
  linearScore?: boolean;
}

export interface QuantCheck {
  /** max |y_rewritten − y_onnxruntime(quantised graph)| / max |y|. */
  forwardErr: number;
  /** max over elements of |y_rewritten − y_onnxruntime(quantised graph)| / fp32 bound (≤ 1 for fp32 kernels). */
  forwardBoundRatio: number;
  /** max over elements of |y_rewritten − y_exact| / fp32 bound (≤ 1 when the rewrite's weights are right). */
  exactBoundRatio: number;
  /** ‖∇ − ∇_fd‖ / ‖∇_fd‖, ∇_fd: central differences of the exact reference along every input. */
  gradErr: number;
  counts: QuantizedFoldCounts;
  /** Ops left in the rewritten, differentiated graph. */
  ops: Set<string>;
}

function graph(c: QuantCase, body: (g: Graph, x: string) => string): { g: Graph; y: string } {
  const g = new Graph();
  g.opsets.set('', c.opset ?? 17);
  g.opsets.set('com.microsoft', 1);
  g.inputs.push({ name: 'x', elemType: DataType.FLOAT, dims: c.xDims });
  const y = body(g, 'x');
  g.outputs = [{ name: y, elemType: DataType.FLOAT, dims: undefined }];
  return { g, y };
}

const run = async (g: Graph, x: Float32Array, dims: number[], fetch: string[]): Promise<Float32Array[]> => {
  const s = await ort.InferenceSession.create(encodeModel(g.toModelProto()), { graphOptimizationLevel: 'disabled' });
  const r = await s.run({ x: new ort.Tensor('float32', x, dims) });
  return fetch.map((f) => r[f].data as Float32Array);
};

const linearWeights = Array.from({ length: 64 }, (_, i) => Math.fround(Math.sin(1 + i * 0.7)));

/** score = Σ y·cos(1.3·y) (non-uniform and curved), or Σ c·y with a fixed pseudo-random c. */
function appendScore(g: Graph, y: string, linear = false): string {
  if (linear) {
    const c = g.constTensor('c', DataType.FLOAT, [64], Float32Array.from(linearWeights));
    const flat = g.op('Reshape', [y, g.constI64([-1])]);
    const cs = g.op('Slice', [c, g.constI64([0]), g.op('Shape', [flat])]);
    return g.op('ReduceSum', [g.op('Mul', [flat, cs])], { keepdims: { kind: 'int', value: 0 } });
  }
  return g.op('ReduceSum', [g.op('Mul', [y, g.op('Cos', [g.op('Mul', [y, g.scalarF32(1.3)])])])], { keepdims: { kind: 'int', value: 0 } });
}

/** Float64 y = x·W + b over the leading rows of x, and |x|·|W| + |b| (the scale of fp32 rounding). */
function exactForward(e: ExactLinear, x: ArrayLike<number>): { y: Float64Array; mag: Float64Array } {
  const rows = x.length / e.k;
  const y = new Float64Array(rows * e.n), mag = new Float64Array(rows * e.n);
  for (let r = 0; r < rows; r++) for (let c = 0; c < e.n; c++) {
    let s = e.bias ? e.bias[c] : 0, m = e.bias ? Math.abs(e.bias[c]) : 0;
    for (let k = 0; k < e.k; k++) { const p = x[r * e.k + k] * e.w[k * e.n + c]; s += p; m += Math.abs(p); }
    y[r * e.n + c] = s; mag[r * e.n + c] = m;
  }
  return { y, mag };
}

const exactScore = (y: Float64Array, linear = false): number =>
  y.reduce((s, v, i) => s + (linear ? linearWeights[i] * v : v * Math.cos(1.3 * v)), 0);

const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const relDiff = (a: Float32Array, b: Float32Array): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / Math.max(maxAbs(b), 1e-12);
};

/**
 * Worst |a − b| relative to the fp32 error bound of a K-term dot product plus bias: any summation order, with
 * or without FMA, rounds to within γ(K+1)·(|x|·|W| + |b|) of the exact value, and rounding the weights to fp32
 * adds u·|x|·|W|; `sides` is how many fp32 evaluations the difference spans (1 against the exact value, 2
 * between two kernels).
 */
function boundRatio(a: ArrayLike<number>, b: ArrayLike<number>, mag: Float64Array, k: number, sides: number): number {
  const u = 2 ** -24, perUnit = sides * (k + 2) * u;
  let worst = 0;
  for (let i = 0; i < mag.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (perUnit * mag[i] + 1e-30));
  return worst;
}

export async function checkQuantized(c: QuantCase, seed = 3): Promise<QuantCheck> {
  const rand = rng(seed);
  const n = c.xDims.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, () => rand() - 0.5); // keeps |y| small: the curved score stays well resolved
  const q = graph(c, c.quantized);
  const [yOrt] = await run(q.g, x, c.xDims, [q.y]);

  const a = graph(c, c.quantized);
  const counts = foldQuantizedConstants(a.g);
  const score = appendScore(a.g, a.y, c.linearScore);
  const grad = appendGradients(a.g, { ys: [score], wrt: ['x'] }).get('x')!;
  a.g.outputs = [{ name: a.y, elemType: DataType.FLOAT, dims: undefined }, { name: grad, elemType: DataType.FLOAT, dims: undefined }];
  const [yOurs, gx] = await run(a.g, x, c.xDims, [a.y, grad]);

  const { y: yExact, mag } = exactForward(c.exact, x);
  const f = (v: ArrayLike<number>): number => exactScore(exactForward(c.exact, v).y, c.linearScore);
  // Central differences of the float64 reference along every input coordinate (cheap in JS): truncation
  // O(h²) ≈ 1e-8 and rounding ≈ 1e-12 at h = 1e-4, far below the fp32 gradient graph's own rounding.
  const h = 1e-4, xs = Float64Array.from(x);
  let diff2 = 0, norm2 = 0;
  for (let k = 0; k < n; k++) {
    const at = (v: number): number => { const p = Float64Array.from(xs); p[k] = v; return f(p); };
    const fd = (at(xs[k] + h) - at(xs[k] - h)) / (2 * h);
    diff2 += (gx[k] - fd) ** 2;
    norm2 += fd ** 2;
  }
  const gradErr = Math.sqrt(diff2 / Math.max(norm2, 1e-300));
  return {
    forwardErr: relDiff(yOurs, yOrt),
    forwardBoundRatio: boundRatio(yOurs, yOrt, mag, c.exact.k, 2),
    exactBoundRatio: boundRatio(yOurs, yExact, mag, c.exact.k, 1),
    gradErr,
    counts,
    ops: new Set(a.g.nodes.map((nd) => nd.opType)),
  };
}
