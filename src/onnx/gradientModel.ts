/**
 * The whole pipeline from an ONNX model to the augmented "score + gradient" model:
 *   fold quantised constants → fp16→fp32 → opset ≥ 17 → un-fuse contrib ops → re-fuse written-out LayerNorms →
 *   drop KV-cache inputs →
 *   cut at the embeddings → append the target score → reverse-mode differentiate → prune.
 * Inputs of the result: inputs_embeds, target_ids, target_positions, target_weights, and whichever of
 * attention_mask / position_ids / token_type_ids (and input_ids, if still used) the model needs.
 * Outputs: score [batch], inputs_embeds_grad [batch, seq, hidden]; causal LMs also target_logits [batch, targets,
 * vocab], the logits rows at the target positions, so that the graph answers forward passes of one sequence too, and
 * target_ids_used [batch, targets]: a target id below 0 scores the row's top token (targetScore.ts).
 */
import { Graph } from './graph';
import { ModelProto, encodeModel } from './onnxProto';
import { convertHalfToFloat } from './fp16ToFp32';
import { upgradeOpset } from './opsetUpgrade';
import { removePastInputs } from './pastRemoval';
import { INPUTS_EMBEDS, cutAtEmbeddings } from './embeddingCut';
import { SCORE, TARGET_IDS, TARGET_IDS_USED, TARGET_LOGITS, TARGET_POSITIONS, TARGET_WEIGHTS, TargetKind, appendTargetScore } from './targetScore';
import { appendGradients } from './gradients';
import { unfuseContribOps } from './contribUnfuse';
import { fuseLayerNorms } from './layerNormFusion';
import { foldQuantizedConstants } from './quantized';
import { DataType } from './tensorData';
import { constantShapeOperands } from './staticShapes';
import { fuseTransposedMatMuls } from './fusedMatMul';
import { segmentIntoSubgraphs, SEGMENT_NODES } from './subgraphSegments';

export const GRADIENT_OUTPUT = 'inputs_embeds_grad';
/** Bump when the augmented graph changes, so cached graphs are rebuilt. */
export const GRADIENT_MODEL_FORMAT = 12;

export interface GradientModelOptions {
  kind: TargetKind;
  classScore?: 'logit' | 'log-prob';
  /** Name of the token-id input (default input_ids). */
  inputIds?: string;
  /** Name of the logits output (default: "logits", else the first output). */
  logits?: string;
  /** From this many nodes the graph is cut into If segments of about segmentNodes nodes (subgraphSegments.ts). */
  segmentFrom?: number;
  segmentNodes?: number;
  /** Constant shape operands where the dims are known (staticShapes.ts; default on: off only to compare). */
  constantShapes?: boolean;
  /** Transposed activation products as FusedMatMuls (fusedMatMul.ts; default on: off only to compare). */
  fusedMatMuls?: boolean;
}

/** Gradient graphs from this many nodes are segmented (the sequential executor plans smaller graphs in milliseconds; the
 * GPT-2-small shape's graph has about 2,000 nodes, the 135M Llama shape's 6,000). */
export const SEGMENT_FROM = 1000;

export interface GradientModel {
  bytes: Uint8Array;
  embedding: Float32Array;
  vocabSize: number;
  hiddenSize: number;
  /** Graph inputs of the augmented model, with element types (feeds the runtime must provide). */
  inputs: { name: string; elemType: number }[];
  logitsName: string;
  /** Initializer holding the token embeddings (the cached graph may read them from the model file instead). */
  embeddingName: string;
  /** If segments the graph was cut into (0: not cut). */
  segments: number;
}

/**
 * Without a KV cache the total (past + new) length equals the sequence length: give attention_mask the ids'
 * sequence symbol so that shape inference sees masks and activations agree.
 */
function unifyTotalLength(g: Graph, seq: number | string | undefined): void {
  const mask = g.inputs.find((i) => i.name === 'attention_mask');
  if (typeof seq === 'string' && mask?.dims?.length === 2) mask.dims = [mask.dims[0], seq];
}

/** The model cut at the embeddings with the target score as its only output: what gets differentiated. */
export interface ScoreGraph {
  graph: Graph;
  cut: ReturnType<typeof cutAtEmbeddings>;
  logits: string;
  /** Batch and sequence dims of the ids (symbols when the model has them). */
  batch: number | string;
  sequence: number | string;
}

export function buildScoreGraph(model: ModelProto, opts: GradientModelOptions, keepTargetLogits = false): ScoreGraph {
  const g = Graph.fromModelProto(model);
  const inputIds = opts.inputIds ?? 'input_ids';
  if (!g.inputs.some((i) => i.name === inputIds)) throw new Error(`The model has no "${inputIds}" input.`);
  const batchSymbols = new Set<string>();
  const idsInfo = g.inputs.find((i) => i.name === inputIds)!;
  if (typeof idsInfo.dims?.[0] === 'string') batchSymbols.add(idsInfo.dims[0]);
  const logits = opts.logits ?? (g.outputs.find((o) => o.name === 'logits') ?? g.outputs[0]).name;

  foldQuantizedConstants(g);
  convertHalfToFloat(g);
  upgradeOpset(g);
  unfuseContribOps(g);
  fuseLayerNorms(g);
  const cut = cutAtEmbeddings(g, inputIds);
  removePastInputs(g, INPUTS_EMBEDS, batchSymbols);
  unifyTotalLength(g, idsInfo.dims?.[1]);
  const score = appendTargetScore(g, logits, opts.kind, opts.classScore, keepTargetLogits);
  // Only the score: the full logits are not an output (for causal LMs they are no longer even computed).
  const batch = typeof idsInfo.dims?.[0] === 'string' ? idsInfo.dims[0] : 'batch';
  for (const i of g.inputs) if (i.name === TARGET_IDS || i.name === TARGET_POSITIONS || i.name === TARGET_WEIGHTS) i.dims = [batch, 'targets'];
  g.outputs = [{ name: score, elemType: DataType.FLOAT, dims: [batch] }];
  if (keepTargetLogits && opts.kind === 'causal-lm') {
    g.outputs.push({ name: TARGET_LOGITS, elemType: DataType.FLOAT, dims: [batch, 'targets', 'vocab'] });
    g.outputs.push({ name: TARGET_IDS_USED, elemType: DataType.INT64, dims: [batch, 'targets'] });
  }
  g.topoSortAndPrune();
  return { graph: g, cut, logits, batch, sequence: idsInfo.dims?.[1] ?? 'sequence' };
}

/** Keeps only the inputs the graph reads, besides the embeddings and the target (input_ids usually goes with the lookup). */
export function dropUnusedInputs(g: Graph, keep: string[] = []): void {
  const used = new Set(g.nodes.flatMap((n) => n.inputs));
  const kept = new Set([INPUTS_EMBEDS, TARGET_IDS, TARGET_POSITIONS, TARGET_WEIGHTS, ...keep]);
  g.inputs = g.inputs.filter((i) => kept.has(i.name) || used.has(i.name));
}

export function buildGradientGraph(model: ModelProto, opts: GradientModelOptions): { graph: Graph; cut: ReturnType<typeof cutAtEmbeddings>; logits: string } {
  const { graph: g, cut, logits, batch, sequence } = buildScoreGraph(model, opts, true);
  // Shape operands known from the dims need no shape arithmetic per pass (and tell the rules more shapes).
  if (opts.constantShapes !== false) constantShapeOperands(g);
  // Attention's transposed products and their scale as FusedMatMuls (fusedMatMul.ts).
  if (opts.fusedMatMuls !== false) fuseTransposedMatMuls(g);
  const grads = appendGradients(g, { ys: [SCORE], wrt: [INPUTS_EMBEDS] });
  g.add('Identity', [grads.get(INPUTS_EMBEDS)!], {}, { outputs: [GRADIENT_OUTPUT] });
  g.outputs.push({ name: GRADIENT_OUTPUT, elemType: DataType.FLOAT, dims: [batch, sequence, cut.hiddenSize] });
  g.topoSortAndPrune();
  dropUnusedInputs(g);
  return { graph: g, cut, logits };
}

export function buildGradientModel(model: ModelProto, opts: GradientModelOptions): GradientModel {
  const { graph, cut, logits } = buildGradientGraph(model, opts);
  const segments = graph.nodes.length >= (opts.segmentFrom ?? SEGMENT_FROM) ? segmentIntoSubgraphs(graph, INPUTS_EMBEDS, opts.segmentNodes ?? SEGMENT_NODES) : 0;
  return {
    segments,
    bytes: encodeModel(graph.toModelProto()),
    embedding: cut.matrix,
    vocabSize: cut.vocabSize,
    hiddenSize: cut.hiddenSize,
    inputs: graph.inputs.map((i) => ({ name: i.name, elemType: i.elemType })),
    logitsName: logits,
    embeddingName: cut.matrixName,
  };
}
