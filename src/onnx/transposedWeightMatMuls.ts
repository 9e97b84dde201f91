/**
 * For small graphs: the backward product of a linear layer, g @ Wᵀ, as one MatMul by a transposed weight instead
 * of Reshape(g, [-1, cols]) → Gemm(transB) → Reshape(·, Shape(a)) (vjpRules.ts emits the Gemm so that large models
 * keep no transposed copy of their weights). onnxruntime folds the Transpose of the weight into a constant at
 * session creation — a copy of every such weight, harmless for a small model — and the pass loses two Reshapes
 * and often a Shape per linear layer: at sub-millisecond passes the kernels' count, not their work, sets the time.
 */
import { Is, type Graph, type Node } from './graph';

const attr = (n: Node, name: string): number | undefined => {
  const a = n.attrs[name];
  return a?.kind === 'int' || a?.kind === 'float' ? a.value : undefined;
};

/** Rewrites the pattern in place; returns how many Gemm nodes became MatMuls. */
export function matmulsByTransposedWeights(g: Graph): number {
  const consumers = g.consumers();
  const outputs = new Set(g.outputs.map((o) => o.name));
  const transposed = new Map<string, string>();
  let count = 0;
  for (const gemm of [...g.nodes]) {
    if (gemm.opType !== 'Gemm' || gemm.domain !== '' || gemm.inputs.length !== 2) continue;
    if ((attr(gemm, 'transB') ?? 0) !== 1 || (attr(gemm, 'transA') ?? 0) !== 0 || (attr(gemm, 'alpha') ?? 1) !== 1) continue;
    const [flat, w] = gemm.inputs;
    const weight = g.constantValue(w);
    if (!weight || (weight.dims ?? []).length !== 2) continue;
    // In: Reshape(g, [-1, cols]) of the incoming gradient; out: the Gemm's only reader, a Reshape back to a's shape.
    const r1 = g.producerOf(flat);
    const r1Shape = r1?.opType === 'Reshape' && r1.domain === '' ? g.constantNumbers(r1.inputs[1]) : undefined;
    if (!r1 || !r1Shape || r1Shape.length !== 2 || r1Shape[0] !== -1) continue;
    const readers = consumers.get(gemm.outputs[0]) ?? [];
    const r2 = readers[0];
    if (readers.length !== 1 || outputs.has(gemm.outputs[0]) || r2.opType !== 'Reshape' || r2.domain !== '' || r2.inputs[0] !== gemm.outputs[0]) continue;
    // r2 reshapes to the shape of a, the left operand of the forward MatMul(a, W) whose gradient g is, so a has
    // g's leading dimensions and MatMul(g, Wᵀ) has a's shape.
    const shape = g.producerOf(r2.inputs[1]);
    if (shape?.opType !== 'Shape' || shape.domain !== '' || Object.keys(shape.attrs).length) continue;
    const a = shape.inputs[0];
    if (!(consumers.get(a) ?? []).some((n) => n.opType === 'MatMul' && n.domain === '' && n.inputs[0] === a && n.inputs[1] === w)) continue;
    let wt = transposed.get(w);
    if (!wt) transposed.set(w, (wt = g.op('Transpose', [w], { perm: Is([1, 0]) })));
    r2.opType = 'MatMul';
    r2.inputs = [r1.inputs[0], wt];
    r2.attrs = {};
    count++;
  }
  if (count) {
    g.invalidate();
    g.topoSortAndPrune();
  }
  return count;
}
