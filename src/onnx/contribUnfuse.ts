/**
 * Un-fusing com.microsoft ops into standard ops (EmbedLayerNormalization, Attention, SkipLayerNormalization,
 * FastGelu, MultiHeadAttention, RotaryEmbedding, …) is NOT implemented yet. Until it is, a model whose token
 * embedding lookup is hidden inside EmbedLayerNormalization is refused here with the standard error (the
 * other contrib ops are reported by the differentiator, which lists every op without a rule).
 */
import { Graph } from './graph';
import { UnsupportedGradientError } from './gradients';

export function unfuseContribOps(g: Graph): void {
  const fused = g.nodes.filter((n) => n.domain === 'com.microsoft' && n.opType === 'EmbedLayerNormalization');
  if (fused.length) {
    const all = [...new Set(g.nodes.filter((n) => n.domain !== '' && n.domain !== 'ai.onnx').map((n) => `${n.domain}:${n.opType}`))];
    throw new UnsupportedGradientError(all);
  }
}
