/**
 * Finds the residual stream of a transformer graph: the value carried from block to block, one per depth.
 *
 * The rule: start at the token embeddings and follow the elementwise steps that still belong to the embedding
 * (position embeddings added, a scale, a cast, an embedding LayerNorm) while the value has a single reader
 * (Shape / Size readers do not count). From
 * there, each residual addition is an Add of the stream and something computed from the stream itself
 * (x + attn(x), x + mlp(x), or x + attn(x) + mlp(x) for parallel blocks), with any constant bias added to the sum
 * right after it (un-fused SkipLayerNormalization). Pre-norm decoders (GPT-2, Llama,
 * Qwen2, Phi-3, Gemma) read the sum itself on; post-norm encoders (BERT) normalise each sum, and the stream is the
 * LayerNormalization output — recognised when every addition's only reader is a LayerNorm (in a pre-norm model
 * only the last one is, the final norm, which does not belong to the stream).
 *
 * With k additions per block (2 for attention + MLP, 1 for parallel blocks) and L blocks, stream value s is the
 * one after s blocks: s = 0 is the input of the first block, s = L the output of the last one.
 */
import type { Graph, Node } from './graph';
import { dependsOn } from './logitLens';

export class UnknownResidualStreamError extends Error {
  constructor(why: string) {
    super(`${why} Layer methods need the residual stream between blocks; use an input-level method (gradient-x-input, integrated-gradients) instead.`);
    this.name = 'UnknownResidualStreamError';
  }
}

const EMBEDDING_STEPS = new Set(['Add', 'Mul', 'Cast', 'Identity', 'LayerNormalization']);

/** The stream values after 0, 1, …, `layers` blocks, starting from the embeddings value `start`. */
export function residualStreams(g: Graph, layers: number, start: string): string[] {
  const consumers = g.consumers();
  // Shape / Size readers only see the dimensions (masks, position ranges): they do not carry the stream. Identity
  // nodes (left by un-fused contrib ops) are seen through: their readers read the value itself.
  const aliases = (v: string): string[] => {
    const out = [v];
    for (let i = 0; i < out.length; i++) for (const n of consumers.get(out[i]) ?? []) if (n.domain === '' && n.opType === 'Identity') out.push(n.outputs[0]);
    return out;
  };
  const readers = (v: string): { node: Node; input: string }[] =>
    aliases(v).flatMap((a) => (consumers.get(a) ?? [])
      .filter((n) => !(n.domain === '' && ['Shape', 'Size', 'Identity'].includes(n.opType)))
      .map((node) => ({ node, input: a })));
  let v = start;
  for (;;) {
    const c = readers(v);
    if (c.length !== 1 || c[0].node.domain !== '' || !EMBEDDING_STEPS.has(c[0].node.opType)) break;
    v = c[0].node.outputs[0];
  }
  const residualAdd = (r: string): Node | undefined => {
    const adds = readers(r).map((x) => x.node).filter((n) => {
      if (n.opType !== 'Add' || n.domain !== '' || n.inputs.length !== 2) return false;
      const mine = aliases(r);
      const other = mine.includes(n.inputs[0]) ? n.inputs[1] : n.inputs[0];
      return !mine.includes(other) && dependsOn(g, other, r);
    });
    return adds.length === 1 ? adds[0] : undefined;
  };
  const sums = [v];
  const normed: (string | undefined)[] = [v];
  for (;;) {
    const r = normed[normed.length - 1] ?? sums[sums.length - 1];
    const add = residualAdd(r);
    if (!add) break;
    let sum = add.outputs[0];
    // A constant bias added after the skip (un-fused SkipLayerNormalization: x + attn(x) + bias) is part of the sum.
    for (let c = readers(sum); c.length === 1 && c[0].node.opType === 'Add' && c[0].node.domain === '' && c[0].node.inputs.some((i) => i !== c[0].input && g.constantValue(i)); c = readers(sum)) {
      sum = c[0].node.outputs[0];
    }
    const c = readers(sum);
    const ln = c.length === 1 && c[0].node.opType === 'LayerNormalization' && c[0].node.domain === '' && !residualAdd(sum) ? c[0].node.outputs[0] : undefined;
    sums.push(sum);
    normed.push(ln);
  }
  const adds = sums.length - 1;
  // Post-norm when every sum is normalised before the next block reads it; otherwise the sums are the stream.
  const postNorm = adds > 0 && normed.slice(1).every((x) => x !== undefined);
  const chain = postNorm ? normed.map((x, i) => x ?? sums[i]) : sums;
  if (layers < 1 || adds < layers || adds % layers !== 0) {
    throw new UnknownResidualStreamError(`Found ${adds} residual additions for ${layers} blocks; the residual stream of this architecture is not recognised.`);
  }
  const step = adds / layers;
  return Array.from({ length: layers + 1 }, (_, s) => chain[s * step]);
}
