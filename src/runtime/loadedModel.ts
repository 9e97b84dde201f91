/** A model ready to explain with: folder, tokenizer, runner and the ids occlusion baselines need. */
import { createLogitLensBackend } from './logitLensBackend';
import { createLayerGradientBackend } from './layerGradientBackend';
import { EngineError } from '../core/engineProtocol';
import type { ExplainDeps } from '../core/explain';
import type { ModelInfo, SpecialTokenIds } from '../core/modelRunner';
import * as path from 'node:path';
import { UnsupportedGradientError } from '../onnx/gradients';
import { createAttentionBackend } from './attentionBackend';
import { createGradientBackend } from './gradientBackend';
import { embedsBatchRows } from './embedsBatchRows';
import { modelFileBytes } from './graphSessionOptions';
import { batchTokenBudget } from './batchBudget';
import { ensureHubModel } from './hub/hubModel';
import { cacheRoot } from './hub/hubSettings';
import { hubIdOf, resolveModelFolder, type ModelFolder } from './modelFolder';
import { CONCRETE_VARIANTS, isModelVariant, MODEL_VARIANTS, type ModelVariant } from './modelVariants';
import type { VariantPurpose } from './variantChoice';
import { OnnxRunner } from './onnxRunner';
import { TextTokenizer } from './textTokenizer';

export interface LoadedModel extends ExplainDeps {
  folder: ModelFolder;
  runner: OnnxRunner;
  tokenizer: TextTokenizer;
}

export interface LoadOptions {
  signal?: AbortSignal;
  /** Download progress of a hub model. */
  onProgress?: (done: number, total: number, message: string) => void;
  /** promptscope.hubEndpoint (HF_ENDPOINT otherwise). */
  hubEndpoint?: string;
  /** auto | fp32 | fp16 | q4 | q4f16 | int8 | uint8 | quantized | bnb4 (default auto). */
  variant?: string;
  /** What the model is loaded for, so that `auto` picks the variant that serves it best. */
  purpose?: VariantPurpose;
}

export async function loadModel(model: string | undefined, options: LoadOptions = {}): Promise<LoadedModel> {
  const hubId = hubIdOf(model);
  const downloaded = hubId
    ? await ensureHubModel(hubId, { signal: options.signal, onProgress: options.onProgress, endpoint: options.hubEndpoint, variant: options.variant, purpose: options.purpose })
    : undefined;
  return loadModelFolder(resolveModelFolder(model, downloaded, { variant: checkedVariant(options.variant), purpose: options.purpose }), { purpose: options.purpose });
}

/** The variant setting, refused with the valid names when it is none of them. */
export function checkedVariant(variant: string | undefined): ModelVariant {
  if (variant === undefined || variant === '') return 'auto';
  if (!isModelVariant(variant)) throw new EngineError('model-load', `Unknown model variant "${variant}". Use one of: ${MODEL_VARIANTS.join(', ')}.`);
  return variant;
}

/**
 * A load for gradient methods defers the forward session: the gradient graph answers the run's single-sequence
 * forward passes, and the forward session (a second mapping of the weights) opens only if batches of forward passes
 * follow (trust figures, forward methods).
 */
export async function loadModelFolder(folder: ModelFolder, options: { purpose?: VariantPurpose } = {}): Promise<LoadedModel> {
  const tokenizer = await TextTokenizer.load(folder.dir);
  const cfg = folder.config;
  const num = (...keys: string[]) => {
    for (const k of keys) if (typeof cfg[k] === 'number') return cfg[k] as number;
    return undefined;
  };
  const tokIds = tokenizer.specialIds;
  // A tokenizer can be larger than the model (tiny test exports reuse a full vocabulary): ids past the
  // model's embedding table are dropped in favour of the model config's own.
  const modelVocab = num('vocab_size') ?? tokenizer.vocabSize;
  const fits = (id: number | undefined) => (id !== undefined && id < modelVocab ? id : undefined);
  const special: SpecialTokenIds = Object.fromEntries(Object.entries(tokIds).map(([k, v]) => [k, fits(v)]));
  special.bos = fits(tokIds.bos) ?? fits(num('bos_token_id'));
  special.eos = fits(tokIds.eos) ?? fits(num('eos_token_id'));
  special.pad = fits(tokIds.pad) ?? fits(num('pad_token_id'));
  const id2label = cfg.id2label as Record<string, string> | undefined;
  const labels = id2label
    ? Object.keys(id2label)
        .sort((a, b) => Number(a) - Number(b))
        .map((k) => id2label[k])
    : undefined;
  const vocabSize = num('vocab_size') ?? tokenizer.vocabSize;
  // Large decoders: forward runs sized to a memory budget (batchBudget.ts); PROMPTSCOPE_BATCH_BUDGET=0 turns it off.
  const batchTokens = folder.kind === 'causal-lm' && process.env.PROMPTSCOPE_BATCH_BUDGET !== '0' ? batchTokenBudget(cfg, modelFileBytes(folder.onnxPath)) : undefined;
  const info: ModelInfo = {
    id: folder.id,
    kind: folder.kind,
    architecture: folder.architecture,
    contextLength: num('n_positions', 'max_position_embeddings', 'n_ctx') ?? 512,
    vocabSize,
    labels: folder.kind === 'sequence-classifier' ? labels : undefined,
    special,
    supportsGradients: false,
    ...(batchTokens !== undefined ? { batchTokens } : {}),
    ...(folder.variant ? { variant: { name: folder.variant.variant, reason: folder.variant.reason } } : {}),
  };
  if (folder.kind === 'sequence-classifier' && (!labels || labels.length === 0)) {
    throw new EngineError('unsupported-model', `The classifier in ${folder.dir} has no id2label in config.json. Add the label names there.`);
  }
  // Padding must be an id the model's embedding table has (a tokenizer may be larger than the model).
  const padId = [special.pad, special.eos, num('pad_token_id'), num('eos_token_id'), 0].find((id) => id !== undefined && id < vocabSize)!;
  const runner = await OnnxRunner.create(info, folder.onnxPath, padId, cfg, folder.genai?.pastTemplates, { cacheDir: defaultCacheDir(), deferSession: options.purpose === 'gradients' });
  const spaceIds = tokenizer.encodeContinuation(' ');
  return { folder, runner, tokenizer, special, spaceId: spaceIds.length === 1 ? spaceIds[0] : undefined };
}

/** Default home of derived artefacts (gradient graphs, logit-row checks), keyed inside by each model's skeleton key. */
export function defaultCacheDir(): string {
  return cacheRoot();
}

/**
 * Builds (or loads from the cache) the differentiable graph the first time a gradient method is asked
 * for, so occlusion-only users never pay for it.
 */
export async function ensureGradients(model: LoadedModel, cacheDir = defaultCacheDir()): Promise<void> {
  attachLayerGradients(model, cacheDir);
  if (model.runner.gradients) return;
  try {
    const backend = await createGradientBackend(model.folder.dir, model.folder.onnxPath, {
      kind: model.folder.kind,
      cacheDir: path.join(cacheDir, 'gradient-graphs'),
      intraOpNumThreads: Number(process.env.PROMPTSCOPE_THREADS) || undefined,
      skeleton: model.runner.skeleton,
      exclusiveSessions: exclusiveSessionsFor(model.folder.onnxPath),
    });
    model.runner.gradients = backend;
    model.runner.info.supportsGradients = true;
    if (backend.answersForward) {
      model.runner.rowSource = backend;
      // A gradient load keeps its forward passes off a forward session of their own (embedsBatchRows.ts).
      if (!model.runner.forwardSessionOpen) model.runner.batchRowSource = { answer: (items, padId, ctx) => embedsBatchRows(backend, items, padId, ctx), get gradientSessionOpen() { return backend.gradientSessionOpen; } };
    }
  } catch (err) {
    if (err instanceof UnsupportedGradientError) throw new EngineError('gradients-unsupported', err.message + otherVariantHint(model.folder));
    throw new EngineError('gradients-unsupported', `Gradients could not be prepared for ${model.folder.id}: ${(err as Error).message.split('\n')[0]}. Use an occlusion method instead.${otherVariantHint(model.folder)}`);
  }
}

/**
 * From this many bytes of weights (PROMPTSCOPE_EXCLUSIVE_SESSIONS_MB, default 256), a gradient load holds one
 * weight-mapping session at a time: the gradient graph, or the embedding-input graph that trust figures run on.
 */
function exclusiveSessionsFor(onnxPath: string): boolean {
  const mb = Number(process.env.PROMPTSCOPE_EXCLUSIVE_SESSIONS_MB ?? 256);
  return modelFileBytes(onnxPath) >= (Number.isFinite(mb) && mb >= 0 ? mb : 256) * 2 ** 20;
}

/** Blocks of a model from its config (GPT-2 n_layer, most others num_hidden_layers, DistilBERT n_layers). */
export function blockCount(cfg: Record<string, unknown>): number | undefined {
  return [cfg.n_layer, cfg.num_hidden_layers, cfg.num_layers, cfg.n_layers].find((x): x is number => typeof x === 'number' && x > 0);
}

/** Layer methods' backend: nothing is built until a layer method runs (then the layer-cut graph, in memory). */
function attachLayerGradients(model: LoadedModel, cacheDir: string): void {
  const layers = blockCount(model.folder.config);
  if (model.runner.layerGradients || layers === undefined) return;
  model.runner.layerGradients = createLayerGradientBackend(model.folder.onnxPath, {
    kind: model.folder.kind, layers, intraOpNumThreads: Number(process.env.PROMPTSCOPE_THREADS) || undefined, cacheDir: path.join(cacheDir, 'layer-graphs'),
  });
}

/**
 * Builds (or loads from the cache) the attention variant of the model the first time an attention method is
 * asked for; other methods never pay for it.
 */
export async function ensureAttention(model: LoadedModel, cacheDir = defaultCacheDir()): Promise<void> {
  if (model.runner.attention) return;
  if (model.folder.kind !== 'causal-lm') throw new EngineError('attention-unsupported', `Attention methods explain decoder language models; ${model.folder.id} is a classifier. Use occlusion or a gradient method.`);
  try {
    const runner = model.runner;
    runner.attention = await createAttentionBackend({
      onnxPath: model.folder.onnxPath,
      cacheDir: path.join(cacheDir, 'attention-graphs'),
      onPasses: (n) => (runner.forwardCount += n),
      padId: model.special.pad ?? model.special.eos ?? 0,
      contextLength: runner.info.contextLength,
    });
  } catch (err) {
    throw new EngineError('attention-unsupported', `Attention could not be read from ${model.folder.id}: ${(err as Error).message.split('\n')[0]}. Use occlusion or a gradient method instead.`);
  }
}

/** Builds the logit-lens variant of a decoder the first time the lens is asked for. */
export async function ensureLogitLens(model: LoadedModel): Promise<void> {
  if (model.runner.logitLens) return;
  const cfg = model.folder.config;
  const layers = [cfg.n_layer, cfg.num_hidden_layers, cfg.num_layers].find((x): x is number => typeof x === 'number');
  if (model.folder.kind !== 'causal-lm' || layers === undefined) throw new EngineError('unsupported-model', `The logit lens reads decoder language models with a known layer count; ${model.folder.id} is not one. Explain without --logit-lens.`);
  try {
    model.runner.logitLens = await createLogitLensBackend(model.folder.onnxPath, layers);
  } catch (err) {
    throw new EngineError('unsupported-model', `The logit lens could not be built for ${model.folder.id}: ${(err as Error).message.split('\n')[0]}. Explain without --logit-lens.`);
  }
}

/** When gradients fail on one variant, the folder's more precise variants are the ones to try. */
function otherVariantHint(folder: ModelFolder): string {
  const v = folder.variant;
  if (!v) return '';
  const others = CONCRETE_VARIANTS.filter((x) => x !== v.variant && v.present.includes(x));
  if (others.length === 0) return '';
  return ` This is the ${v.variant} variant; try the ${others[0]} variant for gradients (set promptscope.modelVariant or --variant to ${others[0]}).`;
}
