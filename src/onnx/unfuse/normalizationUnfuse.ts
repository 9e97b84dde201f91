/**
 * com.microsoft normalisation fusions → Add + LayerNormalization / SimplifiedLayerNormalization (both kept as
 * single forward ops with their own VJP rules, so the forward pass stays as fast as the fused kernel):
 *   EmbedLayerNormalization: word Gather (left as a plain Gather so the embedding cut finds it) + position
 *     Gather (+ segment Gather) → sum → LayerNormalization.
 *   SkipLayerNormalization / SkipSimplifiedLayerNormalization: input + skip (+ bias) → norm.
 */
import { F, I, Node } from '../graph';
import { DataType } from '../tensorData';
import { UnfuseContext, UnfuseError } from './unfuseContext';

function refuseStatsOutputs(u: UnfuseContext, n: Node, consumers: Map<string, Node[]>): void {
  if (u.used(n.outputs[1], consumers) || u.used(n.outputs[2], consumers)) {
    throw new UnfuseError(n, 'its mean / inverse-standard-deviation outputs are used by the graph.');
  }
}

export function unfuseSkipLayerNorm(u: UnfuseContext, n: Node, consumers: Map<string, Node[]>, simplified: boolean): void {
  refuseStatsOutputs(u, n, consumers);
  const [x, skip, gamma] = n.inputs;
  const beta = simplified ? undefined : n.inputs[3];
  const bias = simplified ? n.inputs[3] : n.inputs[4];
  let sum = u.add(x, skip);
  if (bias) sum = u.add(sum, bias);
  if (u.used(n.outputs[3], consumers)) u.emitAs(n.outputs[3], 'Identity', [sum]);
  const eps = F(u.attrFloat(n, 'epsilon', 1e-12));
  if (simplified) u.emitAs(n.outputs[0], 'SimplifiedLayerNormalization', [sum, gamma], { axis: I(-1), epsilon: eps, stash_type: I(1) });
  else u.emitAs(n.outputs[0], 'LayerNormalization', beta ? [sum, gamma, beta] : [sum, gamma], { axis: I(-1), epsilon: eps, stash_type: I(1) });
}

export function unfuseEmbedLayerNorm(u: UnfuseContext, n: Node, consumers: Map<string, Node[]>): void {
  const [ids, segIds, wordEmb, posEmb, segEmb, gamma, beta, mask, posIds] = n.inputs;
  const word = u.op('Gather', [wordEmb, ids], { axis: I(0) }); // [B, S, H]
  let positions = posIds;
  if (!positions) {
    // Default positions 0..S-1, shape [1, S] (broadcast over the batch).
    const s = u.op('Squeeze', [u.dim(ids, 1), u.i64([0])]);
    positions = u.unsqueeze(u.op('Range', [u.scalarI64(0), s, u.scalarI64(1)]), [0]);
  }
  let sum = u.add(word, u.op('Gather', [posEmb, positions], { axis: I(0) }));
  if (segIds && segEmb) sum = u.add(sum, u.op('Gather', [segEmb, segIds], { axis: I(0) }));
  u.emitAs(n.outputs[0], 'LayerNormalization', [sum, gamma, beta], { axis: I(-1), epsilon: F(u.attrFloat(n, 'epsilon', 1e-12)), stash_type: I(1) });
  if (u.used(n.outputs[2], consumers)) u.emitAs(n.outputs[2], 'Identity', [sum]);
  if (u.used(n.outputs[1], consumers)) {
    // mask_index = number of attended tokens per row (right padding), as the fused kernel computes it.
    const m = mask ? u.op('Cast', [mask], { to: I(DataType.INT32) }) : u.op('Cast', [u.op('Mul', [ids, u.g.constTensor('c_i32', DataType.INT32, [], Int32Array.from([0]))])], { to: I(DataType.INT32) });
    const counted = mask ? m : u.op('Add', [m, u.g.constTensor('c_i32', DataType.INT32, [], Int32Array.from([1]))]);
    u.emitAs(n.outputs[1], 'ReduceSum', [counted, u.i64([1])], { keepdims: I(0) });
  }
}
