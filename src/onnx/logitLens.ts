/**
 * The logit-lens variant of a decoder: the model's own final norm and LM head applied to the residual stream
 * after every block, as extra outputs
 *
 *   logit_lens.{l}   [batch, seq, vocab]: lens logits after l blocks (0 = the embeddings, layers = the model's)
 *
 * The residual stream is found as the chain of Adds that each add something computed from the stream to the
 * stream itself (x + attn(x), x + mlp(x), …), starting at the token embeddings; the tail from the last stream
 * value to `logits` (norm, head, any bias or scale) is replayed node for node on each earlier value. Replaying
 * on the last value computes exactly what the model computes, so lens l = layers reproduces the logits.
 */
import type { Graph, Node } from './graph';
import { findEmbeddingGather } from './embeddingCut';

export const logitLensOutput = (layer: number): string => `logit_lens.${layer}`;

export class NoLogitLensError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'NoLogitLensError';
  }
}

export interface LogitLensGraph {
  /** Blocks of the model (outputs logit_lens.0 … logit_lens.{layers}). */
  layers: number;
  /** The residual-stream values read, index = blocks applied. */
  streams: string[];
}

/** True if `v` is computed (transitively) from `from`. */
export function dependsOn(g: Graph, v: string, from: string, memo = new Map<string, boolean>()): boolean {
  if (v === from) return true;
  const known = memo.get(v);
  if (known !== undefined) return known;
  memo.set(v, false);
  const p = g.producerOf(v);
  const r = !!p && p.inputs.some((x) => !!x && dependsOn(g, x, from, memo));
  memo.set(v, r);
  return r;
}

/** The stream values x₀, x₁, … : x₀ after the embedding lookup's own elementwise steps (positions, scale). */
export function residualChain(g: Graph): string[] {
  const consumers = g.consumers();
  let v = findEmbeddingGather(g).node.outputs[0];
  // Position embeddings added, a scale or cast applied: still the input of the first block.
  for (;;) {
    const c = consumers.get(v) ?? [];
    if (c.length !== 1 || !['Add', 'Mul', 'Cast', 'Identity'].includes(c[0].opType) || c[0].domain !== '') break;
    v = c[0].outputs[0];
  }
  const chain = [v];
  for (;;) {
    const r = v;
    const next = (consumers.get(r) ?? []).filter((n) => {
      if (n.opType !== 'Add' || n.domain !== '' || n.inputs.length !== 2) return false;
      const other = n.inputs[0] === r ? n.inputs[1] : n.inputs[0];
      return other !== r && dependsOn(g, other, r);
    });
    if (next.length !== 1) break;
    v = next[0].outputs[0];
    chain.push(v);
  }
  return chain;
}

/** Adds the logit_lens.{l} outputs to `g` (in place). `layers` is the model's block count (its config). */
export function addLogitLens(g: Graph, layers: number, logits = 'logits'): LogitLensGraph {
  const out = g.outputs.find((o) => o.name === logits);
  if (!out) throw new NoLogitLensError(`The graph has no "${logits}" output.`);
  const chain = residualChain(g);
  const adds = chain.length - 1;
  if (layers < 1 || adds < layers || adds % layers !== 0) {
    throw new NoLogitLensError(`Found ${adds} residual additions for ${layers} blocks; the residual stream of this architecture is not recognised.`);
  }
  const step = adds / layers;
  const last = chain[chain.length - 1];
  if (!dependsOn(g, logits, last)) throw new NoLogitLensError('The logits are not computed from the residual stream that was found.');

  // The tail: nodes computed from the last stream value on the way to the logits, in graph order.
  const feedsLogits = new Set<string>();
  for (const stack = [logits]; stack.length;) {
    const v = stack.pop() as string;
    if (feedsLogits.has(v)) continue;
    feedsLogits.add(v);
    for (const x of g.producerOf(v)?.inputs ?? []) if (x) stack.push(x);
  }
  const fromLast = new Set<string>([last]);
  const tail: Node[] = [];
  for (const n of g.nodes) {
    if (!n.inputs.some((x) => fromLast.has(x))) continue;
    for (const o of n.outputs) fromLast.add(o);
    if (n.outputs.some((o) => feedsLogits.has(o))) tail.push(n);
  }
  const streams = Array.from({ length: layers + 1 }, (_, l) => chain[l * step]);
  streams.forEach((x, l) => {
    const rename = new Map<string, string>([[last, x]]);
    for (const n of tail) {
      const outputs = n.outputs.map((o) => (o === logits ? logitLensOutput(l) : g.fresh(`lens${l}_${o}`)));
      g.nodes.push({ opType: n.opType, domain: n.domain, attrs: n.attrs, name: g.fresh(`lens${l}_${n.name || n.opType}`), inputs: n.inputs.map((i) => rename.get(i) ?? i), outputs });
      n.outputs.forEach((o, k) => rename.set(o, outputs[k]));
    }
    g.outputs.push({ name: logitLensOutput(l), elemType: out.elemType, dims: out.dims });
  });
  g.invalidate();
  return { layers, streams };
}
