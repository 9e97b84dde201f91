/**
 * Which files of a hub repository a model needs: the configuration and tokenizer files, and one ONNX
 * variant with its external data. Only these are downloaded, so a repository holding ten variants of a
 * large model costs the user one.
 */
import { EngineError } from '../../core/engineProtocol';

/** Hub file names of the variants Transformers.js-style exports carry. */
export const VARIANT_FILES: Record<string, string> = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  q4: 'model_q4.onnx',
  q4f16: 'model_q4f16.onnx',
  int8: 'model_int8.onnx',
  uint8: 'model_uint8.onnx',
  quantized: 'model_quantized.onnx',
  bnb4: 'model_bnb4.onnx',
};

/** What `auto` downloads: full precision first, then the most exact variant the repository has. */
const AUTO_ORDER = ['fp32', 'fp16', 'quantized', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'];

const SIDE_FILES = [
  'config.json',
  'genai_config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
  'vocab.txt',
];

/** ONNX folders in the order a model folder is searched. */
const ONNX_DIRS = ['onnx/', ''];

export interface NeededFiles {
  variant: string;
  onnx: string;
  files: string[];
}

/** The variants a repository's file list offers, by name. */
export function variantsPresent(paths: readonly string[]): string[] {
  const set = new Set(paths);
  return Object.entries(VARIANT_FILES)
    .filter(([, file]) => ONNX_DIRS.some((d) => set.has(d + file)))
    .map(([v]) => v);
}

export function neededFiles(paths: readonly string[], variant = 'auto', repo = 'this model'): NeededFiles {
  const set = new Set(paths);
  const present = variantsPresent(paths);
  let chosen: string | undefined;
  if (variant === 'auto') chosen = AUTO_ORDER.find((v) => present.includes(v));
  else if (!(variant in VARIANT_FILES)) {
    throw new EngineError('model-load', `Unknown model variant "${variant}". Use auto or one of ${Object.keys(VARIANT_FILES).join(', ')}.`);
  } else if (present.includes(variant)) chosen = variant;
  if (!chosen) {
    const onnxFiles = paths.filter((p) => p.endsWith('.onnx'));
    throw new EngineError(
      'model-load',
      present.length
        ? `${repo} has no ${variant} variant (${VARIANT_FILES[variant]}). Variants present: ${present.join(', ')}. Choose one of them as the model variant.`
        : `${repo} has no ONNX model Promptscope can use${onnxFiles.length ? ` (it holds ${onnxFiles.slice(0, 5).join(', ')})` : ''}. Use a repository with an ONNX export in onnx/model.onnx (for example one from onnx-community).`,
    );
  }
  const onnx = ONNX_DIRS.map((d) => d + VARIANT_FILES[chosen]).find((p) => set.has(p))!;
  const external = new RegExp(`^${escapeRegExp(onnx)}(_data(_\\d+)?|\\.data)$`);
  const files = [...SIDE_FILES.filter((f) => set.has(f)), onnx, ...paths.filter((p) => external.test(p)).sort(naturalOrder)];
  for (const tok of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!set.has(tok)) {
      throw new EngineError('model-load', `${repo} has no ${tok}, which Promptscope needs to split prompts into tokens. Use a repository that ships tokenizer.json and tokenizer_config.json (most onnx-community and Xenova exports do).`);
    }
  }
  if (!set.has('config.json') && !set.has('genai_config.json')) {
    throw new EngineError('model-load', `${repo} has no config.json, so its architecture is unknown. Use a repository that ships config.json with the ONNX files.`);
  }
  return { variant: chosen, onnx, files };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
