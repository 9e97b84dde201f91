/**
 * onnxruntime's com.microsoft FusedMatMul, y = alpha · op(A) · op(B) with op a swap of the last two axes or none:
 * the attention products' transposes and their scale cost no pass over the data. Exports write q·kᵀ/√d as
 * Transpose → MatMul → Div, and reverse mode gives every MatMul two more transposes (g·bᵀ and aᵀ·g): on the 135M
 * Llama shape at 128 tokens these were 7 Transposes and 2 Divs of a [9, 128, 64] or [9, 128, 128] tensor per layer.
 * The kernel takes the transposes into its GEMM and the scale into its alpha, so its results equal those of the
 * written-out ops (bit for bit when the scale is a power of two, as 1/√64 is).
 */
import { F, I, type Graph, type Node } from './graph';
import type { GradContext } from './gradContext';
import { DataType } from './tensorData';
import type { VjpRule } from './vjpRule';

export const MS_DOMAIN = 'com.microsoft';
export const FUSED_MATMUL = 'FusedMatMul';

const intAttr = (n: Node, k: string): number => (n.attrs[k]?.kind === 'int' ? (n.attrs[k].value as number) : 0);
const alphaOf = (n: Node): number => (n.attrs.alpha?.kind === 'float' ? n.attrs.alpha.value : 1);

/** A Transpose that swaps the last two axes of a tensor of rank ≥ 2 and keeps the others. */
function swapsLastTwo(n: Node | undefined): n is Node {
  if (!n || n.opType !== 'Transpose' || n.domain !== '' || n.attrs.perm?.kind !== 'ints') return false;
  const p = n.attrs.perm.value as number[], r = p.length;
  return r >= 2 && p.every((v, i) => (i < r - 2 ? v === i : i === r - 2 ? v === r - 1 : v === r - 2));
}

/** alpha · op(a) · op(b): a MatMul when nothing is transposed or scaled, else a FusedMatMul. */
export function fusedMatMul(c: GradContext, a: string, b: string, transA: boolean, transB: boolean, alpha = 1): string {
  if (!transA && !transB && alpha === 1) return c.op('MatMul', [a, b]);
  c.g.opsets.set(MS_DOMAIN, c.g.opsets.get(MS_DOMAIN) ?? 1);
  return c.op(FUSED_MATMUL, [a, b], { transA: I(transA ? 1 : 0), transB: I(transB ? 1 : 0), alpha: F(alpha) }, MS_DOMAIN);
}

/**
 * Forward rewrite: a MatMul of two activations whose operand is a Transpose of the last two axes becomes a FusedMatMul
 * of the Transpose's input, and a division or product of its only result by a scalar constant its alpha. MatMuls by
 * weights are left as they are (their backward product is a Gemm by the weight as it is stored). Returns how many.
 */
export function fuseTransposedMatMuls(g: Graph): number {
  const consumers = g.consumers();
  const outputs = new Set(g.outputs.map((o) => o.name));
  const dropped = new Set<Node>();
  let count = 0;
  for (const n of g.nodes) {
    if (n.opType !== 'MatMul' || n.domain !== '' || n.inputs.some((x) => g.constantValue(x))) continue;
    const pa = g.producerOf(n.inputs[0]), pb = g.producerOf(n.inputs[1]);
    // Only transposes of activations: a transposed weight (a tied LM head) keeps its MatMul and Gemm(transB) backward.
    const tA = swapsLastTwo(pa) && !g.constantValue(pa.inputs[0]), tB = swapsLastTwo(pb) && !g.constantValue(pb.inputs[0]);
    let alpha = 1;
    const readers = consumers.get(n.outputs[0]) ?? [];
    const scale = readers.length === 1 && !outputs.has(n.outputs[0]) ? readers[0] : undefined;
    let scaleBy: number | undefined;
    if (scale && scale.domain === '' && (scale.opType === 'Div' || scale.opType === 'Mul')) {
      const other = scale.inputs[0] === n.outputs[0] ? scale.inputs[1] : scale.opType === 'Mul' ? scale.inputs[0] : undefined;
      const t = other !== undefined ? g.constantValue(other) : undefined;
      const v = t && t.data_type === DataType.FLOAT && g.constantNumbers(other!);
      if (v && v.length === 1 && v[0] !== 0 && scale.inputs.length === 2) scaleBy = scale.opType === 'Div' ? 1 / v[0] : v[0];
    }
    if (!tA && !tB && scaleBy === undefined) continue;
    if (scaleBy !== undefined) {
      alpha = scaleBy;
      n.outputs = [scale!.outputs[0]];
      dropped.add(scale!);
    }
    n.inputs = [tA ? pa!.inputs[0] : n.inputs[0], tB ? pb!.inputs[0] : n.inputs[1]];
    n.opType = FUSED_MATMUL;
    n.domain = MS_DOMAIN;
    n.attrs = { transA: I(tA ? 1 : 0), transB: I(tB ? 1 : 0), alpha: F(alpha) };
    count++;
  }
  if (count) {
    g.nodes = g.nodes.filter((n) => !dropped.has(n));
    g.opsets.set(MS_DOMAIN, g.opsets.get(MS_DOMAIN) ?? 1);
    g.invalidate();
    g.topoSortAndPrune();
  }
  return count;
}

/**
 * y = α·op(A)·op(B):  dA = α·g·op(B)ᵀ (transA: α·op(B)·gᵀ),  dB = α·op(A)ᵀ·g (transB: α·gᵀ·op(A)), each summed over
 * broadcast batch axes.
 */
export const fusedMatMulRule: VjpRule = (c, n, gy, needs) => {
  const g = gy[0];
  if (!g) return [];
  if (intAttr(n, 'transBatchA') || intAttr(n, 'transBatchB')) throw new Error('FusedMatMul with transBatchA/transBatchB has no gradient rule.');
  const [a, b] = n.inputs;
  const tA = intAttr(n, 'transA') === 1, tB = intAttr(n, 'transB') === 1, alpha = alphaOf(n);
  if ((c.rank(a) ?? 0) < 2 || (c.rank(b) ?? 0) < 2) throw new Error('FusedMatMul gradient needs operands of rank ≥ 2.');
  const ga = needs[0] ? c.sumTo(tA ? fusedMatMul(c, b, g, tB, true, alpha) : fusedMatMul(c, g, b, false, !tB, alpha), a) : undefined;
  const gb = needs[1] ? c.sumTo(tB ? fusedMatMul(c, g, a, true, tA, alpha) : fusedMatMul(c, a, g, !tA, false, alpha), b) : undefined;
  return [ga, gb];
};
