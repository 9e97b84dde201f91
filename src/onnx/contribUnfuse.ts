/**
 * Un-fuses com.microsoft ops into standard ONNX ops before differentiation, so that every op on the path
 * from the embeddings to the target has a VJP rule. Each rewrite writes to the fused node's own output names,
 * so the rest of the graph is untouched; unused optional outputs are simply not produced.
 * Unknown contrib ops are left in place: the differentiator then names them in its refusal if (and only if)
 * they lie on a differentiated path.
 */
import { Graph, Node } from './graph';
import { inferShapes } from './shapeInference';
import { UnfuseContext, UnfuseError } from './unfuse/unfuseContext';
import { unfuseEmbedLayerNorm, unfuseSkipLayerNorm } from './unfuse/normalizationUnfuse';
import { unfuseFastGelu, unfuseGelu, unfuseQuickGelu } from './unfuse/activationUnfuse';
import { unfuseRotaryEmbedding } from './unfuse/rotaryUnfuse';
import { unfuseAttention, unfuseGroupQueryAttention, unfuseMultiHeadAttention } from './unfuse/attentionUnfuse';

export { UnfuseError };

type Rewrite = (u: UnfuseContext, n: Node, consumers: Map<string, Node[]>) => void;

const REWRITES: Record<string, Rewrite> = {
  EmbedLayerNormalization: unfuseEmbedLayerNorm,
  SkipLayerNormalization: (u, n, c) => unfuseSkipLayerNorm(u, n, c, false),
  SkipSimplifiedLayerNormalization: (u, n, c) => unfuseSkipLayerNorm(u, n, c, true),
  Gelu: unfuseGelu,
  BiasGelu: unfuseGelu,
  FastGelu: unfuseFastGelu,
  QuickGelu: unfuseQuickGelu,
  RotaryEmbedding: unfuseRotaryEmbedding,
  Attention: unfuseAttention,
  MultiHeadAttention: unfuseMultiHeadAttention,
  GroupQueryAttention: unfuseGroupQueryAttention,
};

export const UNFUSABLE_CONTRIB_OPS = Object.keys(REWRITES);

/** Rewrites every supported com.microsoft node in place (order preserved); returns how many were rewritten. */
export function unfuseContribOps(g: Graph): number {
  const isTarget = (n: Node): boolean => n.domain === 'com.microsoft' && REWRITES[n.opType] !== undefined;
  if (!g.nodes.some(isTarget)) return 0;
  const u = new UnfuseContext(g, inferShapes(g));
  const consumers = g.consumers();
  const orig = g.nodes;
  const out: Node[] = [];
  g.nodes = out; // rewrites append straight into `out`, keeping topological order
  let count = 0;
  for (const n of orig) {
    if (!isTarget(n)) { out.push(n); continue; }
    REWRITES[n.opType](u, n, consumers);
    count++;
  }
  g.invalidate();
  return count;
}
