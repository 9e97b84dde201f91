/**
 * Model variants as the Hugging Face hub names them (Transformers.js / Optimum exports under onnx/):
 * one ONNX file per precision, each possibly with external data files beside it. Pure file-name logic, so
 * that the local loader and the hub download pick the same files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const MODEL_VARIANTS = ['auto', 'fp32', 'fp16', 'q4', 'q4f16', 'int8', 'uint8', 'quantized', 'bnb4'] as const;
export type ModelVariant = (typeof MODEL_VARIANTS)[number];
export type ConcreteVariant = Exclude<ModelVariant, 'auto'>;

export const CONCRETE_VARIANTS: readonly ConcreteVariant[] = MODEL_VARIANTS.filter((v): v is ConcreteVariant => v !== 'auto');

/** File-name suffix of each variant after the base name ("model" → model_q4.onnx). */
const SUFFIX: Record<ConcreteVariant, string> = {
  fp32: '', fp16: '_fp16', q4: '_q4', q4f16: '_q4f16', int8: '_int8', uint8: '_uint8', quantized: '_quantized', bnb4: '_bnb4',
};

/** What each variant is, for messages and the settings description. */
export const VARIANT_DESCRIPTIONS: Record<ModelVariant, string> = {
  auto: 'the variant that runs the chosen method best here',
  fp32: 'full precision (model.onnx)',
  fp16: 'half-precision weights and activations (model_fp16.onnx)',
  q4: '4-bit block-quantised weights, fp32 activations (model_q4.onnx)',
  q4f16: '4-bit weights with fp16 activations (model_q4f16.onnx)',
  int8: '8-bit signed weights (model_int8.onnx)',
  uint8: '8-bit unsigned weights (model_uint8.onnx)',
  quantized: '8-bit weights, the hub\'s default quantisation (model_quantized.onnx)',
  bnb4: '4-bit bitsandbytes weights (model_bnb4.onnx)',
};

/** Base names of decoder files: current exports use "model", older Transformers.js ones "decoder_model_merged". */
export const BASE_NAMES = ['model', 'decoder_model_merged'] as const;

/** Folders (relative to the model root) where the ONNX files may live, in the order they are searched. */
export const ONNX_FOLDERS = ['onnx', ''] as const;

export function isModelVariant(v: unknown): v is ModelVariant {
  return typeof v === 'string' && (MODEL_VARIANTS as readonly string[]).includes(v);
}

/** File name of a variant, e.g. ("q4") → "model_q4.onnx". */
export function variantFileName(v: ConcreteVariant, base: string = BASE_NAMES[0]): string {
  return `${base}${SUFFIX[v]}.onnx`;
}

/** The variant a file name stands for, or undefined when it is not one of the hub's names. */
export function variantOfFile(fileName: string): ConcreteVariant | undefined {
  const name = path.basename(fileName);
  for (const base of BASE_NAMES) {
    for (const v of CONCRETE_VARIANTS) if (name === variantFileName(v, base)) return v;
  }
  return undefined;
}

/**
 * External data files that belong to an ONNX file, out of a listing of names in the same folder:
 * model.onnx_data, model.onnx_data_1, … (Optimum / Transformers.js) and model.onnx.data (onnxruntime-genai,
 * torch.onnx.export).
 */
export function externalDataFiles(onnxFileName: string, siblings: readonly string[]): string[] {
  const base = path.basename(onnxFileName);
  const re = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(_data(_\\d+)?|\\.data)$`);
  return siblings.filter((f) => re.test(f)).sort((a, b) => dataIndex(a) - dataIndex(b));
}

function dataIndex(f: string): number {
  const m = /_data_(\d+)$/.exec(f);
  return m ? Number(m[1]) : 0;
}

export interface VariantFile {
  variant: ConcreteVariant;
  /** Path relative to the model root, e.g. "onnx/model_q4.onnx". */
  file: string;
  /** External data files, relative to the model root. */
  externalData: string[];
}

/**
 * Every variant in a listing of the model root's files (relative paths with "/"), e.g. a hub tree or a
 * local folder's contents. A variant found in onnx/ wins over one at the root.
 */
export function variantsInListing(files: readonly string[]): VariantFile[] {
  const out: VariantFile[] = [];
  for (const v of CONCRETE_VARIANTS) {
    found: for (const folder of ONNX_FOLDERS) {
      for (const base of BASE_NAMES) {
        const file = folder ? `${folder}/${variantFileName(v, base)}` : variantFileName(v, base);
        if (!files.includes(file)) continue;
        const dir = folder ? `${folder}/` : '';
        const siblings = files.filter((f) => f.startsWith(dir) && !f.slice(dir.length).includes('/')).map((f) => f.slice(dir.length));
        out.push({ variant: v, file, externalData: externalDataFiles(variantFileName(v, base), siblings).map((f) => dir + f) });
        break found;
      }
    }
  }
  return out;
}

/** The variants present in a local model folder. */
export function variantsInFolder(dir: string): VariantFile[] {
  const files: string[] = [];
  for (const folder of ONNX_FOLDERS) {
    const d = path.join(dir, folder);
    if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) continue;
    for (const f of fs.readdirSync(d)) files.push(folder ? `${folder}/${f}` : f);
  }
  return variantsInListing(files);
}

/** Files a model needs besides its ONNX files (those that exist are used; config or genai config is required). */
export const MODEL_SIDE_FILES = [
  'config.json', 'genai_config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'chat_template.json',
] as const;

/**
 * What to download for one variant out of a hub listing: the side files present, the variant's ONNX file and
 * its external data. Throws the same message as a local folder when the variant is missing.
 */
export function filesForVariant(files: readonly string[], variant: ConcreteVariant, where: string): string[] {
  const present = variantsInListing(files);
  const v = present.find((p) => p.variant === variant);
  if (!v) throw new Error(missingVariantMessage(variant, present.map((p) => p.variant), where));
  return [...MODEL_SIDE_FILES.filter((f) => files.includes(f)), v.file, ...v.externalData];
}

export function missingVariantMessage(variant: ConcreteVariant, present: readonly ConcreteVariant[], where: string): string {
  const names = present.map((p) => `${p} (${variantFileName(p)})`).join(', ');
  return present.length
    ? `${where} has no ${variant} variant (${variantFileName(variant)}). Present: ${names}. Set promptscope.modelVariant (or --variant) to one of them, or auto.`
    : `${where} has no ONNX model: expected onnx/model.onnx or a variant such as onnx/model_q4.onnx. Export the model to ONNX first (for example with optimum-cli export onnx).`;
}
