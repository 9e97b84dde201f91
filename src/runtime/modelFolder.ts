/**
 * Finding and validating a model folder in Hugging Face layout. Every problem becomes one EngineError that
 * names the cause and the fix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../core/engineProtocol';
import type { ModelKind } from '../core/modelRunner';
import { GENAI_CONFIG, readGenaiConfig, type GenaiModel } from './genaiConfig';
import { parseHubId, type HubId } from './hub/hubId';
import { variantOfFile, type ModelVariant } from './modelVariants';
import { chooseVariant, type VariantChoice, type VariantPurpose } from './variantChoice';

export const DEFAULT_MODEL = 'promptscope-tiny-lm';

export interface ModelFolder {
  id: string;
  dir: string;
  onnxPath: string;
  config: Record<string, unknown>;
  kind: ModelKind;
  architecture: string;
  /** Set for onnxruntime-genai folders (genai_config.json, no config.json). */
  genai?: GenaiModel;
  /** The variant loaded and why (absent for genai folders, which have one decoder). */
  variant?: VariantChoice;
}

export interface FolderOptions {
  variant?: ModelVariant;
  /** What the model is loaded for, so that `auto` can pick the variant that serves it best. */
  purpose?: VariantPurpose;
}

const CAUSAL_TYPES = new Set(['gpt2', 'llama', 'qwen2', 'qwen3', 'mistral', 'phi3', 'gemma', 'gemma2', 'smollm3', 'gpt_neox', 'olmo']);
const CLASSIFIER_TYPES = new Set(['bert', 'distilbert', 'roberta', 'deberta', 'deberta-v2', 'electra', 'xlm-roberta']);

/** Where the bundled models live: <package root>/models, found from this file's bundle location. */
export function bundledModelsDir(): string {
  const candidates = [
    process.env.PROMPTSCOPE_MODELS_DIR,
    path.resolve(__dirname, '..', 'models'),
    path.resolve(__dirname, '..', '..', 'models'),
  ].filter((p): p is string => !!p);
  return candidates.find((p) => fs.existsSync(path.join(p, DEFAULT_MODEL))) ?? candidates[0];
}

/** The hub id `model` names: not a bundled model, not an existing path, and written `org/name[@revision]`. */
export function hubIdOf(model: string | undefined): HubId | undefined {
  const id = model?.trim();
  if (!id || listBundledModels().includes(id) || path.isAbsolute(id) || id.startsWith('.') || fs.existsSync(id)) return undefined;
  return parseHubId(id);
}

export function listBundledModels(): string[] {
  const dir = bundledModelsDir();
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => fs.existsSync(path.join(dir, name, 'config.json')))
    .sort();
}

/**
 * `downloaded`: a hub id already fetched into the cache (see hub/hubModel.ts); its folder and ONNX file.
 */
export function resolveModelFolder(model: string | undefined, downloaded?: { dir: string; onnx: string; reason?: string }, opts: FolderOptions = {}): ModelFolder {
  const id = model && model.trim() ? model.trim() : DEFAULT_MODEL;
  let dir: string;
  if (downloaded) dir = downloaded.dir;
  else if (listBundledModels().includes(id)) dir = path.join(bundledModelsDir(), id);
  else if (path.isAbsolute(id) || id.startsWith('.') || fs.existsSync(id)) dir = path.resolve(id);
  else {
    throw new EngineError(
      'model-load',
      `Unknown model "${id}". Use a bundled model (${listBundledModels().join(', ') || 'none found'}), the path of a folder in Hugging Face layout, or a hub id such as onnx-community/Qwen2.5-0.5B-Instruct.`,
    );
  }
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new EngineError('model-load', `Model folder not found: ${dir}. Check the path in promptscope.model (or --model).`);
  }
  const configPath = path.join(dir, 'config.json');
  const genai = !fs.existsSync(configPath) && fs.existsSync(path.join(dir, GENAI_CONFIG)) ? readGenaiConfig(dir) : undefined;
  if (!genai && !fs.existsSync(configPath)) {
    throw new EngineError(
      'model-load',
      `${dir} is not a model folder: config.json is missing (and so is onnxruntime-genai's ${GENAI_CONFIG}). Point to a folder in Hugging Face layout (config.json, tokenizer.json, onnx/model.onnx) or an onnxruntime-genai folder.`,
    );
  }
  let config: Record<string, unknown>;
  try {
    config = genai ? genai.config : (JSON.parse(fs.readFileSync(configPath, 'utf8')) as Record<string, unknown>);
  } catch (err) {
    throw new EngineError('model-load', `config.json in ${dir} is not valid JSON (${(err as Error).message}). Restore the file from the model's source.`);
  }
  if (!fs.existsSync(path.join(dir, 'tokenizer.json'))) {
    throw new EngineError('model-load', `tokenizer.json is missing in ${dir}. Export the tokenizer with the model (tokenizer.save_pretrained).`);
  }
  const variant = genai
    ? undefined
    : downloaded
      ? chooseVariant(dir, variantOfFile(downloaded.onnx) ?? 'auto', opts.purpose ?? 'forward')
      : chooseVariant(dir, opts.variant ?? 'auto', opts.purpose ?? 'forward');
  if (variant && downloaded && opts.variant === 'auto') variant.reason = downloaded.reason ?? 'downloaded for auto';
  const onnxPath = downloaded ? path.join(dir, downloaded.onnx) : (genai?.onnxPath ?? variant!.onnxPath);
  const architecture = String(config.model_type ?? '');
  const archs = Array.isArray(config.architectures) ? (config.architectures as string[]) : [];
  let kind: ModelKind;
  if (archs.some((a) => a.endsWith('ForSequenceClassification')) || (CLASSIFIER_TYPES.has(architecture) && !archs.some((a) => a.endsWith('ForCausalLM')))) {
    kind = 'sequence-classifier';
  } else if (CAUSAL_TYPES.has(architecture) || archs.some((a) => a.endsWith('ForCausalLM') || a.endsWith('LMHeadModel'))) {
    kind = 'causal-lm';
  } else {
    throw new EngineError(
      'unsupported-model',
      `Unsupported architecture "${architecture || 'unknown'}" in ${dir}. Promptscope explains decoder language models (GPT-2, Llama, Qwen, SmolLM, Mistral…) and BERT-style sequence classifiers.`,
    );
  }
  return { id, dir, onnxPath, config, kind, architecture, genai, variant };
}
