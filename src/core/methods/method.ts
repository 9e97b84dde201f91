/** What every attribution method receives and returns; the registry maps names to implementations. */
import type { ForwardItem, ModelRunner, ProgressSink, SpecialTokenIds } from '../modelRunner';
import type { MethodParams } from '../request';
import type { AttentionDetail, CounterfactualEdits, LayerSweep, MethodRun, SpanLevel } from '../result';
import type { TargetPlan } from '../targets';
import type { EncodedToken } from '../tokenizer';
import type { PartialSink } from '../partialResult';

export interface MethodContext {
  runner: ModelRunner;
  prompt: EncodedToken[];
  /** The prompt text the token offsets point into (line and sentence features). */
  text?: string;
  /** Text of token ids (counterfactual edits name their replacements). */
  decode?: (ids: readonly number[]) => string;
  plan: TargetPlan;
  params: MethodParams;
  special: SpecialTokenIds;
  /** Token id of a single space, when the vocabulary has one (the "space" occlusion baseline). */
  spaceId?: number;
  /** Word groups (token indices), for word-level occlusion. */
  words: number[][];
  maxTokensPerBatch: number;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  /** Streaming methods report their scores so far after a chunk of passes (see src/core/partialResult.ts). */
  onPartial?: PartialSink;
}

export interface MethodOutput {
  scores: number[][];
  meaning: string;
  params: MethodParams;
  batches: number;
  seed?: number;
  completenessGap?: number[];
  attention?: AttentionDetail;
  /** Perturbation methods: samples drawn, standard error per score, fit quality. */
  samples?: number;
  samplingError?: number[][];
  fitR2?: number[];
  /** Counterfactual edits, each verified by a forward pass. */
  counterfactuals?: CounterfactualEdits;
  relativeCompletenessGap?: number[];
  /** Integrated gradients: nodes of the final quadrature rule per row. */
  quadratureSteps?: number[];
  /** Coarse-to-fine occlusion: the level each token's score comes from. */
  spanLevels?: (SpanLevel | null)[];
  occlusions?: number;
  /** Layer methods: the attribution at every depth swept. */
  layerSweep?: LayerSweep;
}

export interface AttributionMethod {
  name: string;
  label: string;
  /** One line on what it measures and when to use it. */
  description: string;
  needsGradients: boolean;
  /** Reads attention inside the model (the runner's attention backend must be prepared). */
  needsAttention?: boolean;
  /** Uses gradients when the model has them, and runs without them otherwise. */
  usesGradients?: boolean;
  run(ctx: MethodContext): Promise<MethodOutput>;
  /**
   * The forward items this method scores first, built with a stand-in plan (the target's token id not known yet):
   * the prediction's pass may run them alongside the prompt (ModelRunner.topTokens), saving a run.
   */
  alongsidePrediction?(ctx: MethodContext): ForwardItem[];
}

export type { MethodRun };
