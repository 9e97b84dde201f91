/**
 * The "cut at any layer" variant of the gradient model: the residual stream after every block becomes a variable
 * besides the embeddings. For each stream value x_s (s = 0 … L blocks, src/onnx/residualStream.ts) the graph gets
 *
 *   input  layer_delta.{s}       [batch, seq, hidden]  added to the stream there: x'_s = x_s + δ_s (zeros = the model)
 *   output layer_activation.{s}  [batch, seq, hidden]  x_s as the blocks before computed it (before δ_s is added)
 *   output layer_grad.{s}        [batch, seq, hidden]  ∂score/∂x'_s, everything before s held fixed
 *
 * One backward pass gives the gradient at every depth (the backward pass computes them on its way to the
 * embeddings anyway), so a sweep over all layers costs what one layer costs. The delta lets a caller put any
 * value at one layer (x' = b + α(x − b) for layer integrated gradients is δ = (α − 1)(x − b)) while the same pass
 * still reports x itself.
 */
import type { ModelProto } from './onnxProto';
import { encodeModel } from './onnxProto';
import { appendGradients } from './gradients';
import { buildScoreGraph, dropUnusedInputs, type GradientModelOptions } from './gradientModel';
import { INPUTS_EMBEDS } from './embeddingCut';
import { residualStreams } from './residualStream';
import { matmulsByTransposedWeights } from './transposedWeightMatMuls';
import { SCORE } from './targetScore';
import { DataType } from './tensorData';
import { I, type Graph } from './graph';

export const layerDeltaInput = (s: number): string => `layer_delta.${s}`;
export const layerActivationOutput = (s: number): string => `layer_activation.${s}`;
export const layerGradOutput = (s: number): string => `layer_grad.${s}`;
/**
 * Small graphs (LayerGradientGraphOptions.smallGraphNodes) give every depth in one output instead:
 *   output layer_values  [2·(L+1)·batch, seq, hidden]  layer_grad.0, layer_activation.0, layer_grad.1, … one after
 *                        the other along the first axis (each [batch, seq, hidden])
 * One Concat and one fetched output cost less than 2·(L+1) Identity nodes and outputs, which at sub-millisecond
 * passes is a few per cent of the pass (GPT-2 fixture, 16 tokens: 0.732 → 0.701 ms CPU).
 */
export const LAYER_VALUES = 'layer_values';
/** Index of a stream's gradient or activation among layer_values' tensors. */
export const layerValuesIndex = (s: number, which: 'grad' | 'activation'): number => 2 * s + (which === 'activation' ? 1 : 0);
/** Bump when the graph changes (cache keys). */
export const LAYER_GRADIENT_MODEL_FORMAT = 7;

/** The outputs to fetch for some streams of either form. */
export function layerFetches(concatenated: boolean, streams: number[]): string[] {
  return ['score', ...(concatenated ? [LAYER_VALUES] : streams.flatMap((s) => [layerGradOutput(s), layerActivationOutput(s)]))];
}

/**
 * Item b's gradient or activation at stream s (a view, [seq, hidden] row-major) from the fetched outputs of either
 * form; `size` = seq × hidden, `batch` = items in the run.
 */
export function layerOutputOf(concatenated: boolean, output: (name: string) => Float32Array, s: number, which: 'grad' | 'activation', b: number, batch: number, size: number): Float32Array {
  if (!concatenated) return output(which === 'grad' ? layerGradOutput(s) : layerActivationOutput(s)).subarray(b * size, (b + 1) * size);
  const at = (layerValuesIndex(s, which) * batch + b) * size;
  return output(LAYER_VALUES).subarray(at, at + size);
}

export interface LayerGradientModel {
  bytes: Uint8Array;
  /** Blocks; stream values 0 … layers. */
  layers: number;
  /** Nodes of the graph (its session options depend on its size). */
  nodes: number;
  hiddenSize: number;
  vocabSize: number;
  /** Row-major [vocab, hidden] token embeddings. */
  embedding: Float32Array;
  /** Every depth in the one output LAYER_VALUES (small graphs) instead of layer_grad.{s} / layer_activation.{s}. */
  concatenated: boolean;
  inputs: { name: string; elemType: number }[];
}

export interface LayerGradientGraphOptions extends GradientModelOptions {
  layers: number;
  /**
   * Set for a model of small weights: a graph below this many nodes gives every depth in the one output
   * LAYER_VALUES and multiplies by transposed weights in its backward linear layers (transposedWeightMatMuls.ts:
   * fewer kernels, a transposed copy of those weights).
   */
  smallGraphNodes?: number;
}

export function buildLayerGradientGraph(model: ModelProto, opts: LayerGradientGraphOptions): { graph: Graph; hiddenSize: number; vocabSize: number; embedding: Float32Array; concatenated: boolean } {
  const { graph: g, cut, batch, sequence } = buildScoreGraph(model, opts);
  const streams = residualStreams(g, opts.layers, INPUTS_EMBEDS);
  const dims = [batch, sequence, cut.hiddenSize];
  const shifted: string[] = [];
  streams.forEach((x, s) => {
    const moved = g.fresh(`layer_stream_${s}`);
    g.replaceUses(x, moved);
    g.inputs.push({ name: layerDeltaInput(s), elemType: DataType.FLOAT, dims });
    g.add('Add', [x, layerDeltaInput(s)], {}, { outputs: [moved] });
    shifted.push(moved);
  });
  g.topoSortAndPrune();
  const grads = appendGradients(g, { ys: [SCORE], wrt: shifted });
  streams.forEach((x, s) => {
    g.add('Identity', [x], {}, { outputs: [layerActivationOutput(s)] });
    g.add('Identity', [grads.get(shifted[s])!], {}, { outputs: [layerGradOutput(s)] });
    g.outputs.push({ name: layerActivationOutput(s), elemType: DataType.FLOAT, dims }, { name: layerGradOutput(s), elemType: DataType.FLOAT, dims });
  });
  g.topoSortAndPrune();
  dropUnusedInputs(g, streams.map((_, s) => layerDeltaInput(s)));
  const concatenated = opts.smallGraphNodes !== undefined && g.nodes.length < opts.smallGraphNodes;
  if (concatenated) {
    const separate = new Set(streams.flatMap((_, s) => [layerGradOutput(s), layerActivationOutput(s)]));
    g.nodes = g.nodes.filter((n) => !(n.opType === 'Identity' && separate.has(n.outputs[0])));
    g.outputs = g.outputs.filter((o) => !separate.has(o.name));
    g.add('Concat', streams.flatMap((x, s) => [grads.get(shifted[s])!, x]), { axis: I(0) }, { outputs: [LAYER_VALUES] });
    g.outputs.push({ name: LAYER_VALUES, elemType: DataType.FLOAT, dims: [undefined, sequence, cut.hiddenSize] });
    g.invalidate();
    matmulsByTransposedWeights(g);
    g.topoSortAndPrune();
  }
  return { graph: g, hiddenSize: cut.hiddenSize, vocabSize: cut.vocabSize, embedding: cut.matrix, concatenated };
}

export function buildLayerGradientModel(model: ModelProto, opts: LayerGradientGraphOptions): LayerGradientModel {
  const { graph, hiddenSize, vocabSize, embedding, concatenated } = buildLayerGradientGraph(model, opts);
  return {
    bytes: encodeModel(graph.toModelProto()),
    layers: opts.layers,
    nodes: graph.nodes.length,
    hiddenSize,
    vocabSize,
    embedding,
    concatenated,
    inputs: graph.inputs.map((i) => ({ name: i.name, elemType: i.elemType })),
  };
}
