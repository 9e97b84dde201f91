/**
 * Quantised-graph checks: the rewritten graph's forward value against onnxruntime running the quantised graph
 * itself, and its gradient against central differences of an fp32 reference graph (the dequantised, or
 * straight-through, function) that the test builds independently.
 */
import * as ort from 'onnxruntime-node';
import { Graph } from '../../src/onnx/graph';
import { encodeModel } from '../../src/onnx/onnxProto';
import { DataType } from '../../src/onnx/tensorData';
import { appendGradients } from '../../src/onnx/gradients';
import { foldQuantizedConstants, QuantizedFoldCounts } from '../../src/onnx/quantized';
import { rng } from './fdHarness';

export interface QuantCase {
  xDims: number[];
  /** Default-domain opset (21 for blocked DequantizeLinear). */
  opset?: number;
  quantized: (g: Graph, x: string) => string;
  reference: (g: Graph, x: string) => string;
  /**
   * Score linear in y (Σ c·y, fixed c). Straight-through cases need it: their gradient is J_ref(x)ᵀ·∂score/∂y
   * at the quantised y, which equals the reference function's gradient only when ∂score/∂y is constant.
   */
  linearScore?: boolean;
}

export interface QuantCheck {
  /** max |y_rewritten − y_onnxruntime(quantised graph)| / max |y|. */
  forwardErr: number;
  /** max |y_reference − y_onnxruntime(quantised graph)| / max |y| (0 up to rounding unless straight-through). */
  referenceErr: number;
  /** Worst relative error of directional derivatives vs central differences of the reference. */
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

/** score = Σ y·cos(1.3·y) (non-uniform and curved), or Σ c·y with a fixed pseudo-random c. */
function appendScore(g: Graph, y: string, linear = false): string {
  if (linear) {
    const c = g.constTensor('c', DataType.FLOAT, [64], Float32Array.from({ length: 64 }, (_, i) => Math.sin(1 + i * 0.7)));
    const flat = g.op('Reshape', [y, g.constI64([-1])]);
    const cs = g.op('Slice', [c, g.constI64([0]), g.op('Shape', [flat])]);
    return g.op('ReduceSum', [g.op('Mul', [flat, cs])], { keepdims: { kind: 'int', value: 0 } });
  }
  return g.op('ReduceSum', [g.op('Mul', [y, g.op('Cos', [g.op('Mul', [y, g.scalarF32(1.3)])])])], { keepdims: { kind: 'int', value: 0 } });
}

const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const relDiff = (a: Float32Array, b: Float32Array): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / Math.max(maxAbs(b), 1e-12);
};

export async function checkQuantized(c: QuantCase, seed = 3): Promise<QuantCheck> {
  const rand = rng(seed);
  const n = c.xDims.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, () => rand() - 0.5); // keeps |y| small: the curved score stays well resolved in fp32
  const q = graph(c, c.quantized);
  const [yOrt] = await run(q.g, x, c.xDims, [q.y]);
  const ref = graph(c, c.reference);
  const [yRef] = await run(ref.g, x, c.xDims, [ref.y]);

  const a = graph(c, c.quantized);
  const counts = foldQuantizedConstants(a.g);
  const score = appendScore(a.g, a.y, c.linearScore);
  const grad = appendGradients(a.g, { ys: [score], wrt: ['x'] }).get('x')!;
  a.g.outputs = [{ name: a.y, elemType: DataType.FLOAT, dims: undefined }, { name: grad, elemType: DataType.FLOAT, dims: undefined }];
  const [yOurs, gx] = await run(a.g, x, c.xDims, [a.y, grad]);

  const refScore = appendScore(ref.g, ref.y, c.linearScore);
  ref.g.outputs = [{ name: refScore, elemType: DataType.FLOAT, dims: [] }];
  const s = await ort.InferenceSession.create(encodeModel(ref.g.toModelProto()), { graphOptimizationLevel: 'disabled' });
  const f = async (v: Float32Array): Promise<number> => Number(((await s.run({ x: new ort.Tensor('float32', v, c.xDims) }))[refScore].data as Float32Array)[0]);
  let gradErr = 0;
  for (let d = 0; d < 3; d++) {
    const dir = Float32Array.from(x, () => rand() * 2 - 1);
    const norm = Math.hypot(...dir);
    for (let k = 0; k < n; k++) dir[k] /= norm;
    let analytic = 0;
    for (let k = 0; k < n; k++) analytic += gx[k] * dir[k];
    // Richardson-extrapolated central difference along a unit direction: O(h⁴) truncation error.
    const cd = async (h: number): Promise<number> => ((await f(Float32Array.from(x, (v, k) => v + h * dir[k]))) - (await f(Float32Array.from(x, (v, k) => v - h * dir[k])))) / (2 * h);
    const d1 = await cd(1e-2), d2 = await cd(5e-3);
    const fd = (4 * d2 - d1) / 3;
    gradErr = Math.max(gradErr, Math.abs(fd - analytic) / Math.max(1, Math.abs(fd)));
  }
  return { forwardErr: relDiff(yOurs, yOrt), referenceErr: relDiff(yRef, yOrt), gradErr, counts, ops: new Set(a.g.nodes.map((nd) => nd.opType)) };
}
