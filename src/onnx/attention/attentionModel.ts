/**
 * The attention variant of a model: one graph that both exposes every self-attention's probabilities and
 * lets the caller scale the pre-softmax scores per key position (AtMan).
 *
 *   attention_probs.{l}   output, float32 [batch, heads, query, key]: the softmax of layer l
 *   attention_key_factors input, float32 [batch, past + sequence]: φ per key, 1 = unchanged
 *
 * Per row of scaled scores s (before masks and biases): s' = s + (s − min_row s)·(φ − 1), i.e. the row is
 * shifted by its minimum, scaled by φ and shifted back (AtMan's "towards no attention"; softmax ignores the
 * shift). Masks are applied after, so causal and padding masks are kept. With φ = 1 the added term is an
 * exact zero, so the scores — and every output — are bit-identical to the unmodified graph's.
 * Fused com.microsoft attention is un-fused first; every other node is left as it is.
 */
import { Graph, I, Is } from '../graph';
import { ModelProto } from '../onnxProto';
import { inferShapes } from '../shapeInference';
import { DataType } from '../tensorData';
import { upgradeOpset } from '../opsetUpgrade';
import { findAttentionSites } from './attentionSites';
import { unfuseAttentionOps } from './unfuseAttentionOps';

/** Bump when the rewritten graph changes, so cached graphs are rebuilt. */
export const ATTENTION_MODEL_FORMAT = 1;
export const KEY_FACTORS_INPUT = 'attention_key_factors';
export const attentionProbsOutput = (layer: number): string => `attention_probs.${layer}`;
/** Diagnostic outputs (exposeQK): the two operands of the scores MatMul, Q [B, N, S, h] and Kᵀ [B, N, h, T]. */
export const attentionQOutput = (layer: number): string => `attention_q.${layer}`;
export const attentionKtOutput = (layer: number): string => `attention_kt.${layer}`;

export class NoAttentionError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'NoAttentionError';
  }
}

export interface AttentionGraph {
  graph: Graph;
  layers: number;
  /** Heads per layer (undefined when not static). */
  heads: (number | undefined)[];
  /** Fused attention nodes that were un-fused. */
  unfused: number;
}

export interface AttentionModelOptions {
  /** Also output each layer's Q and Kᵀ (for checks against an independent softmax). */
  exposeQK?: boolean;
}

export function buildAttentionGraph(model: ModelProto, opts: AttentionModelOptions = {}): AttentionGraph {
  const g = Graph.fromModelProto(model);
  const hasFused = g.nodes.some((n) => n.domain === 'com.microsoft' && ['Attention', 'MultiHeadAttention', 'GroupQueryAttention'].includes(n.opType));
  // The un-fusing rewrites use opset-13 forms (axes as inputs).
  if (hasFused && g.opset < 13) upgradeOpset(g);
  const unfused = unfuseAttentionOps(g);
  const info = inferShapes(g);
  const sites = findAttentionSites(g, info);
  if (sites.length === 0) {
    throw new NoAttentionError('No self-attention softmax (Softmax of scaled Q·Kᵀ feeding a MatMul with V) was found in the graph.');
  }
  const opset = g.opset;
  const unsqueeze = (x: string, axes: number[]): string => (opset >= 13 ? g.op('Unsqueeze', [x, g.constI64(axes)]) : g.op('Unsqueeze', [x], { axes: Is(axes) }));
  const rowMin = (x: string): string => (opset >= 18 ? g.op('ReduceMin', [x, g.constI64([-1])], { keepdims: I(1) }) : g.op('ReduceMin', [x], { axes: Is([-1]), keepdims: I(1) }));

  const mask = g.inputs.find((i) => i.name === 'attention_mask');
  const ids = g.inputs.find((i) => i.name === 'input_ids') ?? g.inputs[0];
  const batch = ids?.dims?.[0] ?? 'batch';
  const keyDim = mask?.dims?.length === 2 ? mask.dims[1] : 'total_sequence_length';
  g.inputs.push({ name: KEY_FACTORS_INPUT, elemType: DataType.FLOAT, dims: [batch, keyDim] });
  // φ − 1 as [B, 1, 1, T], computed once and shared by every layer (cast per element type on demand).
  const minusOne = unsqueeze(g.op('Sub', [KEY_FACTORS_INPUT, g.scalarF32(1)]), [1, 2]);
  const byType = new Map<number, string>([[DataType.FLOAT, minusOne]]);
  const factorsAs = (t: number): string => {
    let v = byType.get(t);
    if (!v) { v = g.op('Cast', [minusOne], { to: I(t) }); byType.set(t, v); }
    return v;
  };

  const heads: (number | undefined)[] = [];
  for (const s of sites) {
    const t = info.types.get(s.preMask) ?? DataType.FLOAT;
    const shifted = g.op('Sub', [s.preMask, rowMin(s.preMask)]);
    const scaled = g.op('Add', [s.preMask, g.op('Mul', [shifted, factorsAs(t)])]);
    s.preMaskConsumer.inputs = s.preMaskConsumer.inputs.map((i) => (i === s.preMask ? scaled : i));
    const probs = s.softmax.outputs[0];
    const pt = info.types.get(probs) ?? t;
    const name = attentionProbsOutput(s.layer);
    g.add(pt === DataType.FLOAT ? 'Identity' : 'Cast', [probs], pt === DataType.FLOAT ? {} : { to: I(DataType.FLOAT) }, { outputs: [name] });
    g.outputs.push({ name, elemType: DataType.FLOAT, dims: [batch, s.heads ?? 'heads', 'query', keyDim] });
    if (opts.exposeQK) {
      const [q, kt] = s.scoresMatMul.inputs;
      for (const [v, out] of [[q, attentionQOutput(s.layer)], [kt, attentionKtOutput(s.layer)]]) {
        const vt = info.types.get(v) ?? DataType.FLOAT;
        g.add(vt === DataType.FLOAT ? 'Identity' : 'Cast', [v], vt === DataType.FLOAT ? {} : { to: I(DataType.FLOAT) }, { outputs: [out] });
        g.outputs.push({ name: out, elemType: DataType.FLOAT, dims: undefined });
      }
    }
    heads.push(s.heads);
  }
  g.topoSortAndPrune();
  return { graph: g, layers: sites.length, heads, unfused };
}
