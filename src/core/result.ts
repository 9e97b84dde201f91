/**
 * AttributionResult: the one versioned result every view and exporter reads. Views are pure functions of a
 * result plus view settings; nothing downstream recomputes scores.
 */
import type { ExplainRequest, MethodParams, TargetSpec } from './request';
import type { ModelKind } from './modelRunner';
import type { TrustReport } from './trust/trustReport';
import type { LogitLensReport } from './logitLens';
import type { VariationReport } from './trust/variation';
import type { SelfRatingReport } from './trust/askModel';
import type { PartialState } from './partialResult';

export const RESULT_SCHEMA = 'promptscope.attribution';
export const RESULT_VERSION = 1;

export interface ResultToken {
  index: number;
  id: number;
  /** Exact [start, end) range in input.text (UTF-16 code units). Zero-width for special tokens. */
  start: number;
  end: number;
  /** The input characters this token covers (input.text.slice(start, end)). */
  text: string;
  /** Special tokens (BOS, CLS, SEP …) are scored but not shown in the editor. */
  special: boolean;
  /**
   * Chat explanations: a token the chat template added (role markers, special tokens, the system prompt).
   * It is special (zero-width, never tinted in the editor) and `text` holds the template's text.
   */
  template?: boolean;
}

export interface TargetRow {
  /** Text of what is explained in this row (a token, a class label, "A vs B"). */
  text: string;
  tokenId: number;
  /** For contrastive rows: the foil token. */
  foilText?: string;
  foilTokenId?: number;
  /** Model probability of the target given the full input (and earlier target tokens). */
  probability: number;
  logProb: number;
  /** The score every method explains for this row (log p, log p − log p_foil, or class log p). */
  score: number;
}

/** The unit a coarse-to-fine score was measured on. */
export type SpanLevel = 'paragraph' | 'sentence' | 'word' | 'token';

export interface MethodRun {
  method: string;
  params: MethodParams;
  /** scores[row][token]: contribution of each input token to each target row's score. */
  scores: number[][];
  /** Short statement of what the numbers mean, shown in hovers and the panel. */
  meaning: string;
  diagnostics: {
    forwardPasses: number;
    backwardPasses: number;
    elapsedMs: number;
    batches: number;
    seed?: number;
    /** Integrated gradients: |Σ attributions − (f(x) − f(baseline))| per row. */
    completenessGap?: number[];
    /** Sampling methods: samples drawn (permutations, coalitions, probes). */
    samples?: number;
    /** Standard error of each score from sampling, [row][token], in score units. */
    samplingError?: number[][];
    /** LIME: weighted R² of the local linear fit per row (low: the linear picture is poor). */
    fitR2?: number[];
    /** Integrated gradients: completenessGap ÷ |f(x) − f(baseline)| per row (above 0.01: use more steps). */
    relativeCompletenessGap?: number[];
    /** Integrated gradients: nodes of the quadrature rule each row's scores come from (after refinement). */
    quadratureSteps?: number[];
    /** Coarse-to-fine occlusion: per token, the level of the span whose occlusion its score shares (null: not scored). */
    spanLevels?: (SpanLevel | null)[];
    /**
     * Occlusion methods: perturbed sequences scored, one pass each per target branch (the pass budget and the
     * progress line count these); forwardPasses adds the passes that computed shared prefixes.
     */
    occlusions?: number;
  };
  /** Attention methods: the probabilities behind the scores (large; exports keep them only on request). */
  attention?: AttentionDetail;
  /** Layer methods: the same attribution at every depth, for the layer × token heatmap. */
  layerSweep?: LayerSweep;
}

/** One layer method's scores at several depths of the residual stream. */
export interface LayerSweep {
  /** Stream indices: 0 = the embeddings as block 0 reads them, s = the output of block s − 1. */
  streams: number[];
  /** scores[row][k][token] at streams[k]. */
  scores: number[][][];
}

/** Every layer's and head's attention over one sequence: the prompt plus the continuation fed back as input. */
export interface AttentionDetail {
  /** Text of the continuation positions after the prompt (the prompt's are input.tokens). */
  continuation: string[];
  /** Index of the first continuation position (= number of prompt tokens). */
  promptLength: number;
  layers: number;
  heads: number;
  /** probs[layer][head][query][key], rounded to 4 decimals. */
  probs: number[][][][];
  /** The query position each target row reads (row r → position). */
  rowQueries: number[];
}

/** One edit of the prompt whose effect a forward pass measured. */
export interface CounterfactualEdit {
  kind: 'replace' | 'delete';
  /** A single token, or a whole word (all its tokens at once). */
  unit: 'token' | 'word';
  /** Token indices the edit removes or replaces, and the character range they cover. */
  tokens: number[];
  start: number;
  end: number;
  original: string;
  /** The text put in their place ('' for a deletion). */
  replacement: string;
  replacementId?: number;
  /** Where the candidate came from: the gradient's first-order estimate, the model's own top-k, or deletion. */
  source: 'gradient' | 'model' | 'delete';
  /** The target row's score before and after (verified), and the change. */
  scoreBefore: number;
  scoreAfter: number;
  delta: number;
  /** The target token's probability after the edit. */
  targetProbability: number;
  /** The model's top prediction after the edit (verified) and whether it differs from before. */
  newTop: { text: string; tokenId: number; probability: number };
  flipsTop: boolean;
}

export const COUNTERFACTUALS_VERSION = 1;

/** Counterfactual edits for the first target row, best first (largest verified drop or a changed top). */
export interface CounterfactualEdits {
  version: typeof COUNTERFACTUALS_VERSION;
  row: number;
  /** Top prediction on the unedited prompt. */
  top: { text: string; tokenId: number; probability: number };
  edits: CounterfactualEdit[];
  /** Candidates verified by forward passes in all (reported edits are the best of them). */
  verified: number;
}

export interface Prediction {
  text: string;
  tokenId: number;
  probability: number;
}

export interface AttributionResult {
  schema: typeof RESULT_SCHEMA;
  version: typeof RESULT_VERSION;
  createdAt: string;
  model: { id: string; architecture: string; kind: ModelKind; contextLength: number; variant?: { name: string; reason: string } };
  input: {
    text: string;
    tokens: ResultToken[];
    /** When the prompt was truncated from the start, the offset of the first explained character. */
    truncatedAt?: number;
  };
  target: { spec: TargetSpec; rows: TargetRow[] };
  /** The model's top next tokens (or classes) for the full input. */
  predictions: Prediction[];
  runs: MethodRun[];
  request: ExplainRequest;
  /** Faithfulness and agreement figures (src/core/trust); absent when turned off or in older results. */
  trust?: TrustReport;
  /** Mean, spread and sign agreement over seed variants, method seeds or baselines, when asked for. */
  variation?: VariationReport;
  /** Verified counterfactual edits, when the counterfactuals method ran (versioned on its own). */
  counterfactuals?: CounterfactualEdits;
  /** The model's own ratings of its input words and their rank correlation with the attribution, when asked. */
  selfRating?: SelfRatingReport;
  /** Every layer's prediction at each target row's position, when asked for (versioned on its own). */
  logitLens?: LogitLensReport;
  /** Present while a run streams, and on what a cancelled run computed: how far it got (absent when final). */
  partial?: PartialState;
}

/** Throws a clear error when a JSON value is not a result this version understands. */
export function parseResult(value: unknown): AttributionResult {
  const r = value as Partial<AttributionResult> | null;
  if (!r || typeof r !== 'object' || r.schema !== RESULT_SCHEMA) {
    throw new Error('Not a Promptscope attribution result (missing "schema": "promptscope.attribution").');
  }
  if (r.version !== RESULT_VERSION) {
    throw new Error(`Unsupported result version ${String(r.version)}; this Promptscope reads version ${RESULT_VERSION}.`);
  }
  if (!r.input || !Array.isArray(r.input.tokens) || !Array.isArray(r.runs) || !r.target || !Array.isArray(r.target.rows)) {
    throw new Error('Malformed Promptscope result: input.tokens, target.rows and runs are required.');
  }
  for (const run of r.runs) {
    if (!Array.isArray(run.scores) || run.scores.length !== r.target.rows.length) {
      throw new Error(`Malformed Promptscope result: method "${run.method}" must have one score row per target row.`);
    }
    for (const row of run.scores) {
      if (!Array.isArray(row) || row.length !== r.input.tokens.length) {
        throw new Error(`Malformed Promptscope result: method "${run.method}" must score every input token.`);
      }
    }
  }
  return r as AttributionResult;
}
