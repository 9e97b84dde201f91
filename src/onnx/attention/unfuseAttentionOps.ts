/**
 * Un-fuses only the com.microsoft attention ops (Attention, MultiHeadAttention, GroupQueryAttention), so that
 * their Softmax becomes visible while every other node keeps its fused kernel and its exact numerics.
 * Half-precision attention runs in fp32 inside the rewrite (inputs cast up, outputs cast back): the rewrites
 * build fp32 constants, and fp32 softmax is also what the fused CPU kernels accumulate in.
 */
import { Graph, I, Node } from '../graph';
import { inferShapes } from '../shapeInference';
import { DataType } from '../tensorData';
import { unfuseAttention, unfuseGroupQueryAttention, unfuseMultiHeadAttention } from '../unfuse/attentionUnfuse';
import { UnfuseContext } from '../unfuse/unfuseContext';

type Rewrite = (u: UnfuseContext, n: Node, consumers: Map<string, Node[]>) => void;

export const ATTENTION_REWRITES: Record<string, Rewrite> = {
  Attention: unfuseAttention,
  MultiHeadAttention: unfuseMultiHeadAttention,
  GroupQueryAttention: unfuseGroupQueryAttention,
};

const isHalf = (t: number | undefined): boolean => t === DataType.FLOAT16 || t === DataType.BFLOAT16;

/** Rewrites every fused attention node in place (order kept); returns how many were rewritten. */
export function unfuseAttentionOps(g: Graph): number {
  const isTarget = (n: Node): boolean => n.domain === 'com.microsoft' && ATTENTION_REWRITES[n.opType] !== undefined;
  if (!g.nodes.some(isTarget)) return 0;
  const info = inferShapes(g);
  const u = new UnfuseContext(g, info);
  const consumers = g.consumers();
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const orig = g.nodes;
  const out: Node[] = [];
  g.nodes = out; // rewrites append straight into `out`, keeping topological order
  let count = 0;
  for (const n of orig) {
    if (!isTarget(n)) { out.push(n); continue; }
    const half = n.inputs.some((i) => i && isHalf(info.types.get(i)));
    if (!half) {
      ATTENTION_REWRITES[n.opType](u, n, consumers);
    } else {
      // fp32 copy of the node: cast half inputs up, write fresh outputs, cast the used ones back.
      const halfType = n.inputs.map((i) => info.types.get(i)).find(isHalf)!;
      const inputs = n.inputs.map((i) => {
        if (!i || !isHalf(info.types.get(i))) return i;
        const c = g.op('Cast', [i], { to: I(DataType.FLOAT) });
        const s = info.shapes.get(i);
        if (s) info.shapes.set(c, s);
        info.types.set(c, DataType.FLOAT);
        return c;
      });
      const outputs = n.outputs.map((o) => (o ? g.fresh(`${o}_f32`) : ''));
      const c2 = new Map(consumers);
      n.outputs.forEach((o, k) => {
        if (!o) return;
        const users = consumers.get(o) ?? [];
        // A graph output counts as a use: give it a placeholder consumer so the rewrite produces it.
        c2.set(outputs[k], users.length || !graphOutputs.has(o) ? users : [n]);
      });
      ATTENTION_REWRITES[n.opType](u, { ...n, inputs, outputs }, c2);
      const produced = new Set(out.flatMap((x) => x.outputs));
      n.outputs.forEach((o, k) => {
        if (o && produced.has(outputs[k])) g.add('Cast', [outputs[k]], { to: I(halfType) }, { outputs: [o] });
      });
    }
    count++;
  }
  g.invalidate();
  return count;
}
