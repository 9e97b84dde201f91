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
import type { Graph } from './graph';

export const layerDeltaInput = (s: number): string => `layer_delta.${s}`;
export const layerActivationOutput = (s: number): string => `layer_activation.${s}`;
export const layerGradOutput = (s: number): string => `layer_grad.${s}`;
/** Bump when the graph changes (cache keys). */
export const LAYER_GRADIENT_MODEL_FORMAT = 3;

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
  inputs: { name: string; elemType: number }[];
}

export interface LayerGradientGraphOptions extends GradientModelOptions {
  layers: number;
  /**
   * Set for a model of small weights: a graph below this many nodes multiplies by transposed weights in its
   * backward linear layers (transposedWeightMatMuls.ts: fewer kernels, a transposed copy of those weights).
   */
  smallGraphNodes?: number;
}

export function buildLayerGradientGraph(model: ModelProto, opts: LayerGradientGraphOptions): { graph: Graph; hiddenSize: number; vocabSize: number; embedding: Float32Array } {
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
  if (opts.smallGraphNodes !== undefined && g.nodes.length < opts.smallGraphNodes) matmulsByTransposedWeights(g);
  return { graph: g, hiddenSize: cut.hiddenSize, vocabSize: cut.vocabSize, embedding: cut.matrix };
}

export function buildLayerGradientModel(model: ModelProto, opts: LayerGradientGraphOptions): LayerGradientModel {
  const { graph, hiddenSize, vocabSize, embedding } = buildLayerGradientGraph(model, opts);
  return {
    bytes: encodeModel(graph.toModelProto()),
    layers: opts.layers,
    nodes: graph.nodes.length,
    hiddenSize,
    vocabSize,
    embedding,
    inputs: graph.inputs.map((i) => ({ name: i.name, elemType: i.elemType })),
  };
}
