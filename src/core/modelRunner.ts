/**
 * The one interface attribution methods are written against. The runtime layer implements it on top of
 * onnxruntime-node; methods never know which model format or front end is behind it.
 */
import type { LayerGradientBackend } from './layerGradients';
import type { LogitLensBackend } from './logitLens';

export type ModelKind = 'causal-lm' | 'sequence-classifier';

export interface SpecialTokenIds {
  bos?: number;
  eos?: number;
  pad?: number;
  unk?: number;
  mask?: number;
  cls?: number;
  sep?: number;
}

export interface ModelInfo {
  /** Bundled model name or absolute folder path. */
  id: string;
  kind: ModelKind;
  /** config.json model_type, e.g. "gpt2", "llama", "bert". */
  architecture: string;
  contextLength: number;
  vocabSize: number;
  /** Class labels in id order (classifiers only). */
  labels?: string[];
  special: SpecialTokenIds;
  /** Whether gradient methods can run (an augmented graph could be built). */
  supportsGradients: boolean;
  /** The file variant loaded (fp32, fp16, q4 …) and why it was chosen. */
  variant?: { name: string; reason: string };
  /**
   * Padded tokens per forward run that keep a run's activations within the runtime's memory budget (large models;
   * see src/runtime/batchBudget.ts). Forward runs stay within it (padded tokens, shared prefix included), down to four sequences per run.
   */
  batchTokens?: number;
}

/**
 * One log-probability the caller wants from a forward pass.
 * Causal LM: log p(tokenId | tokens[0..position]) — i.e. read the logits row at `position`.
 * Classifier: `position` is ignored and `tokenId` is a class index.
 */
export interface ScoreQuery {
  position: number;
  tokenId: number;
}

export interface ScoreValue {
  logProb: number;
  /** Raw logit (class logit for classifiers). */
  logit: number;
}

export interface ForwardItem {
  inputIds: number[];
  /** 1 = attend, 0 = hidden. Defaults to all ones. */
  attentionMask?: number[];
  /** Defaults to 0..n-1. Kept explicit so that masking a token does not shift the others. */
  positionIds?: number[];
  queries: ScoreQuery[];
}

export interface TopToken {
  tokenId: number;
  logProb: number;
}

export interface ProgressSink {
  (done: number, total: number): void;
}

/** A target scalar for gradients: Σ weight_t · score(position_t, tokenId_t). */
export interface GradientTarget {
  tokenIds: number[];
  positions: number[];
  weights: number[];
  /** Classifiers: score the class logit or its log-probability. Causal LMs always use log-probabilities. */
  classScore?: 'logit' | 'log-prob';
}

export interface GradientItem {
  /** Row-major [seq, hidden] token embeddings (what the embedding lookup would output). */
  inputsEmbeds: Float32Array;
  /** Token ids the embeddings stand for; needed only for models whose graph uses them besides the lookup. */
  inputIds: number[];
  attentionMask?: number[];
  positionIds?: number[];
  target: GradientTarget;
}

export interface GradientValue {
  score: number;
  /** Row-major [seq, hidden]: d score / d inputsEmbeds. */
  grad: Float32Array;
}

export interface ModelRunner {
  readonly info: ModelInfo;

  /** Batched forward passes; returns one array of values per item, in query order. */
  score(items: ForwardItem[], signal?: AbortSignal): Promise<ScoreValue[][]>;

  /**
   * The k most likely next tokens after `inputIds` (causal LM) or classes (classifier), sorted. `alongside`: items a
   * method will score next, which the runtime may run in the same pass (their queries' positions count, not their
   * token ids) and keep for takePrecomputed: the prediction then costs no run of its own.
   */
  topTokens(inputIds: number[], k: number, signal?: AbortSignal, alongside?: ForwardItem[]): Promise<TopToken[]>;

  /**
   * Values of the leading `items` that the last topTokens computed alongside its prompt (same ids, mask, positions and
   * query positions), read with these items' token ids; an empty array when there are none. What was kept is dropped.
   */
  takePrecomputed?(items: readonly ForwardItem[]): ScoreValue[][];

  /** Number of forward passes (sequences) run so far: feeds result diagnostics. */
  readonly forwardCount: number;

  /** Gradient support (absent when the model has no differentiable graph). */
  gradients?: GradientBackend;

  /** Attention probabilities and per-key score scaling (absent until prepared, or when no attention is found). */
  attention?: AttentionBackend;

  /** The final norm and LM head after every block (absent until prepared). */
  logitLens?: LogitLensBackend;

  /** Gradients at the residual stream between blocks (layer methods; absent when the stream is not found). */
  layerGradients?: LayerGradientBackend;

  /**
   * Told before an explain's methods run whether any of them is a forward method (occlusion and kin: many batches
   * sharing prefixes), so that a runtime answering a gradient run's few forward batches elsewhere opens its forward
   * session for them instead.
   */
  expectForwardMethods?(yes: boolean): void;
}

/** One sequence whose attention probabilities are read. */
export interface AttentionItem {
  inputIds: number[];
  attentionMask?: number[];
  positionIds?: number[];
}

export interface AttentionMaps {
  layers: number;
  heads: number;
  /** Sequence length (queries = keys). */
  seq: number;
  /** Per layer, row-major [head][query][key]; every row sums to 1 over the keys it may attend. */
  probs: Float32Array[];
}

/** A forward item whose pre-softmax scores are scaled per key (AtMan), in every layer and head. */
export interface SuppressedItem extends ForwardItem {
  /** φ per position of inputIds: 1 = unchanged, 0.1 = AtMan's default suppression (f = 0.9). */
  keyFactors: number[];
}

export interface AttentionBackend {
  readonly layers: number;
  readonly heads: number;
  /** Attention probabilities of one sequence (one forward pass). */
  attention(item: AttentionItem, signal?: AbortSignal): Promise<AttentionMaps>;
  /** Batched forward passes with per-key score factors; values in query order, as ModelRunner.score. */
  scoreSuppressed(items: SuppressedItem[], signal?: AbortSignal): Promise<ScoreValue[][]>;
  /** Input-embedding rows of these ids, row-major [n, hidden] (AtMan's conceptual suppression). */
  embed(inputIds: number[]): { data: Float32Array; hidden: number };
}

export interface GradientBackend {
  readonly hiddenSize: number;
  /** The embedding rows for these ids, row-major [seq, hidden]. */
  embed(inputIds: number[]): Float32Array;
  /** The mean of all embedding rows (a common integrated-gradients baseline). */
  meanEmbedding(): Float32Array;
  /** Batched score + gradient w.r.t. inputs_embeds. All items in one call share a sequence length. */
  scoreAndGradient(items: GradientItem[], signal?: AbortSignal): Promise<GradientValue[]>;
  /** Number of backward passes (sequences) run so far. */
  readonly backwardCount: number;
  /**
   * Forward pass only, from embeddings: log-probabilities of the whole next-token (or class) distribution at
   * each item's position. Items in one call share a sequence length. Absent when the runtime cannot build it.
   */
  logProbsFromEmbeds?(items: EmbedsForwardItem[], signal?: AbortSignal): Promise<Float32Array[]>;
}

export interface EmbedsForwardItem {
  /** Row-major [seq, hidden] token embeddings. */
  inputsEmbeds: Float32Array;
  inputIds: number[];
  attentionMask?: number[];
  positionIds?: number[];
  /** Causal LM: the position whose next-token distribution is returned (ignored for classifiers). */
  position: number;
}

export class CancelledError extends Error {
  constructor() {
    super('Cancelled.');
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}
