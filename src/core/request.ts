/** What a front end asks the engine to explain. Plain data: it crosses the RPC boundary as JSON. */
import type { VariationSource } from './trust/variation';

export type Granularity = 'token' | 'word' | 'line' | 'sentence';

export type TargetSpec =
  /** The model's own most likely next token (causal LM) or predicted class (classifier). */
  | { kind: 'next-token' }
  /** A next token the user names, as text (must be a single token) or a token id. */
  | { kind: 'token'; text?: string; tokenId?: number }
  /** A forced continuation: one attribution row per continuation token. */
  | { kind: 'forced'; text: string }
  /** A greedy continuation of N tokens: one attribution row per generated token. */
  | { kind: 'generate'; tokens: number }
  /** log p(text) − log p(foil): why this rather than that. */
  | { kind: 'contrastive'; text: string; foil: string }
  /** Classifiers: a label by name (or the predicted one when omitted). */
  | { kind: 'class'; label?: string };

export type OcclusionBaseline = 'delete' | 'pad' | 'unk' | 'mask' | 'space' | 'attention';

export interface MethodParams {
  baseline?: OcclusionBaseline;
  /** Sliding window width and stride (tokens). */
  window?: number;
  stride?: number;
  /** Integrated gradients / SmoothGrad. */
  steps?: number;
  /** Integrated gradients: largest rule tried while the relative completeness gap is above 1 %. */
  maxSteps?: number;
  igBaseline?: 'zero' | 'pad' | 'mean';
  /** Integrated gradients (and layer IG): the path rule; default 'adaptive' (src/core/methods/pathIntegral.ts). */
  igRule?: 'adaptive' | 'graded-clenshaw-curtis' | 'gauss-legendre' | 'riemann-midpoint';
  samples?: number;
  noise?: number;
  seed?: number;
  /** Attention: the layer and head read (0-based); omitted = the mean over all layers / heads. */
  layer?: number;
  head?: number;
  /** Layer methods: the block by position instead of index (layer wins when both are set; default middle). */
  layerPick?: 'middle' | 'last';
  /** Layer methods: attribute to the input of the block (the stream entering it) instead of its output. */
  layerInput?: boolean;
  /** Layer integrated gradients: also compute the attribution at every depth (one path per depth). */
  sweepLayers?: boolean;
  /** AtMan: suppression f (scores of the suppressed key × (1 − f)); conceptual suppression threshold κ. */
  suppression?: number;
  conceptual?: number;
  /** Perturbation methods: the unit that is kept or removed as one feature (default token). */
  features?: Granularity;
  /** ReAGent: share of features replaced per probe step, features kept by the stop rule, replacement sampler. */
  ratio?: number;
  keepTop?: number;
  replacement?: 'uniform' | 'model';
  /** Coarse-to-fine occlusion: most forward passes, and seconds of refinement (the coarse level always runs). */
  passBudget?: number;
  timeBudget?: number;
}

export interface ExplainRequest {
  text: string;
  /** Bundled model name or a local folder in Hugging Face layout. Empty: the default bundled model. */
  model?: string;
  /** File variant: auto | fp32 | fp16 | q4 | q4f16 | int8 | uint8 | quantized | bnb4 (default auto). */
  variant?: string;
  /** One or more method names; the first is the primary one shown by default. */
  methods: string[];
  params?: MethodParams;
  target: TargetSpec;
  /** Upper bound on prompt tokens; longer input is an error that names the limit. */
  maxTokens?: number;
  /** Cap on tokens (batch × sequence) per onnxruntime run. */
  maxTokensPerBatch?: number;
  /** When the prompt is too long, explain only its last maxTokens tokens instead of failing. */
  truncateFromStart?: boolean;
  /**
   * Explain `text` as the user message of a chat: the model's chat template wraps it (with `system` as the
   * system prompt) and the assistant's reply is the target.
   */
  chat?: { system?: string };
  /** Faithfulness and agreement figures for every method that ran (default on; false turns them off). */
  trust?: boolean;
  /** Explain again under these variants and report per-token mean ± sd, sign agreement and SNR. */
  variation?: VariationSource;
  /** Also ask the model itself to rate each word of the text from −1 to 1 (language models; result.selfRating). */
  selfRate?: boolean;
  /** Also read every layer's prediction through the final norm and LM head (decoders). */
  logitLens?: boolean;
}
