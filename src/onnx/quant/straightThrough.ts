/**
 * Dynamically quantised MatMuls get a straight-through gradient. The forward value stays exactly what the
 * quantised graph computes; the gradient is that of the fp32 MatMul by the dequantised weight:
 *   y = stop(y_q) + (x @ W − stop(x @ W)),   W = (B − b_zero_point) · b_scale
 * Rounding x to 8 bits is piecewise constant (its true derivative is 0 almost everywhere), so the
 * straight-through estimator treats it as the identity, as quantisation-aware training does.
 *
 * Patterns:
 *   DynamicQuantizeLinear(x) → MatMulInteger(x_q, B, x_zp, b_zp) → Cast(float) → Mul chain by x_scale and
 *     constants (onnxruntime's quantize_dynamic writes Mul(Cast, Mul(x_scale, b_scale)));
 *   com.microsoft DynamicQuantizeMatMul(x, B, b_scale, b_zp, bias);
 *   com.microsoft MatMulIntegerToFloat(x_q, B, x_scale, b_scale, x_zp, b_zp, bias) with x_q from
 *     DynamicQuantizeLinear(x).
 */
import { Graph, Node } from '../graph';
import { tensorToFloat32, tensorToNumbers, DataType } from '../tensorData';

interface Match {
  /** Node whose output is the quantised product y_q (rewritten to a fresh name). */
  last: Node;
  x: string;
  /** Dequantised [K, N] weight. */
  weight: Float32Array;
  K: number;
  N: number;
}

const isMs = (n: Node, op: string): boolean => n.opType === op && n.domain === 'com.microsoft';

/** (B − zp) · scale for a constant int8/uint8 [K, N] B with scalar or per-column zp and scale. */
function dequantizeColumns(g: Graph, b: string, zp: string | undefined, scale: number[] | undefined): { w: Float32Array; K: number; N: number } | undefined {
  const bt = g.constantValue(b);
  const dims = g.constantDims(b);
  if (!bt || !dims || dims.length !== 2 || !scale) return undefined;
  const [K, N] = dims;
  const q = tensorToNumbers(bt);
  const z = zp ? g.constantNumbers(zp) : [0];
  if (!z || (z.length !== 1 && z.length !== N) || (scale.length !== 1 && scale.length !== N)) return undefined;
  const w = new Float32Array(K * N);
  for (let k = 0; k < K; k++) for (let c = 0; c < N; c++) {
    w[k * N + c] = (q[k * N + c] - z[z.length === 1 ? 0 : c]) * scale[scale.length === 1 ? 0 : c];
  }
  return { w, K, N };
}

function constFloats(g: Graph, name: string): number[] | undefined {
  const t = g.constantValue(name);
  return t ? Array.from(tensorToFloat32(t)) : undefined;
}

/** Element-wise product of two broadcastable factor lists (scalar or per-column). */
function timesFactor(a: number[], b: number[]): number[] | undefined {
  if (a.length === 1) return b.map((v) => v * a[0]);
  if (b.length === 1) return a.map((v) => v * b[0]);
  return a.length === b.length ? a.map((v, i) => v * b[i]) : undefined;
}

function matchMatMulInteger(g: Graph, n: Node, consumers: Map<string, Node[]>): Match | undefined {
  const dql = g.producerOf(n.inputs[0]);
  if (!dql || dql.opType !== 'DynamicQuantizeLinear' || dql.domain !== '') return undefined;
  if (n.inputs[2] && n.inputs[2] !== dql.outputs[2]) return undefined;
  const xScale = dql.outputs[1];
  const only = (v: string): Node | undefined => {
    const c = consumers.get(v) ?? [];
    return c.length === 1 && !g.outputs.some((o) => o.name === v) ? c[0] : undefined;
  };
  const cast = only(n.outputs[0]);
  if (!cast || cast.opType !== 'Cast' || cast.attrs.to?.value !== DataType.FLOAT) return undefined;
  // Walk the Mul chain until x_scale has been applied once; every other factor must be a constant.
  let v = cast.outputs[0], factor: number[] | undefined = [1], sawScale = false, last: Node | undefined;
  while (!sawScale) {
    const m = only(v);
    if (!m || m.opType !== 'Mul' || m.domain !== '') return undefined;
    const other = m.inputs[0] === v ? m.inputs[1] : m.inputs[0];
    const c = constFloats(g, other);
    if (c) factor = timesFactor(factor!, c);
    else if (other === xScale) sawScale = true;
    else {
      // Mul(x_scale, constant) computed once and shared.
      const p = g.producerOf(other);
      const pc = p?.opType === 'Mul' && p.inputs.includes(xScale) ? constFloats(g, p.inputs[0] === xScale ? p.inputs[1] : p.inputs[0]) : undefined;
      if (!pc) return undefined;
      factor = timesFactor(factor!, pc);
      sawScale = true;
    }
    if (!factor) return undefined;
    last = m;
    v = m.outputs[0];
  }
  const d = dequantizeColumns(g, n.inputs[1], n.inputs[3] || undefined, factor);
  return d && last ? { last, x: dql.inputs[0], weight: d.w, K: d.K, N: d.N } : undefined;
}

function matchContrib(g: Graph, n: Node): Match | undefined {
  if (isMs(n, 'DynamicQuantizeMatMul')) {
    const d = dequantizeColumns(g, n.inputs[1], n.inputs[3] || undefined, constFloats(g, n.inputs[2]));
    return d ? { last: n, x: n.inputs[0], weight: d.w, K: d.K, N: d.N } : undefined;
  }
  if (isMs(n, 'MatMulIntegerToFloat')) {
    const dql = g.producerOf(n.inputs[0]);
    if (!dql || dql.opType !== 'DynamicQuantizeLinear' || n.inputs[2] !== dql.outputs[1]) return undefined;
    const d = dequantizeColumns(g, n.inputs[1], n.inputs[5] || undefined, constFloats(g, n.inputs[3]));
    return d ? { last: n, x: dql.inputs[0], weight: d.w, K: d.K, N: d.N } : undefined;
  }
  return undefined;
}

/** Rewrites every recognised dynamically quantised MatMul; returns how many. */
export function straightThroughQuantizedMatMuls(g: Graph): number {
  const consumers = g.consumers();
  const matches = new Map<Node, Match>();
  for (const n of g.nodes) {
    const m = n.opType === 'MatMulInteger' && n.domain === '' ? matchMatMulInteger(g, n, consumers) : matchContrib(g, n);
    if (m) matches.set(m.last, m);
  }
  if (matches.size === 0) return 0;
  const orig = g.nodes;
  g.nodes = [];
  for (const n of orig) {
    g.nodes.push(n);
    const m = matches.get(n);
    if (!m) continue;
    const y = n.outputs[0];
    const yq = g.fresh(`${y}_quantized`);
    n.outputs[0] = yq;
    const w = g.constTensor(`${n.name}_dequantized`, DataType.FLOAT, [m.K, m.N], m.weight);
    const mm = g.op('MatMul', [m.x, w]);
    const frozenQ = g.op('Identity', [yq]);
    const frozenM = g.op('Identity', [mm]);
    g.stopGradient.add(frozenQ);
    g.stopGradient.add(frozenM);
    g.add('Add', [frozenQ, g.op('Sub', [mm, frozenM])], {}, { outputs: [y] });
  }
  g.invalidate();
  return matches.size;
}
