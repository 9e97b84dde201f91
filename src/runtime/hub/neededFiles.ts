/**
 * Which files of a hub repository a model needs: the configuration and tokenizer files, and one ONNX
 * variant with its external data, chosen by the same rules and file names as a local folder
 * (../modelVariants.ts, ../variantChoice.ts). Only these are downloaded, so a repository holding ten
 * variants of a large model costs the user one.
 */
import { EngineError } from '../../core/engineProtocol';
import { isModelVariant, MODEL_SIDE_FILES, MODEL_VARIANTS, variantsInListing, type ConcreteVariant, type VariantFile } from '../modelVariants';
import { pickVariant, type VariantPurpose } from '../variantChoice';

export interface ListedFile {
  path: string;
  size: number;
}

export interface NeededFiles {
  variant: ConcreteVariant;
  /** Why this variant, in a sentence for the user. */
  reason: string;
  onnx: string;
  files: string[];
}

export function neededFiles(listing: readonly ListedFile[], variant = 'auto', repo = 'this model', purpose: VariantPurpose = 'forward'): NeededFiles {
  const paths = listing.map((f) => f.path);
  const set = new Set(paths);
  if (!isModelVariant(variant)) throw new EngineError('model-load', `Unknown model variant "${variant}". Use one of: ${MODEL_VARIANTS.join(', ')}.`);
  for (const tok of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!set.has(tok)) {
      throw new EngineError('model-load', `${repo} has no ${tok}, which Promptscope needs to split prompts into tokens. Use a repository that ships tokenizer.json and tokenizer_config.json (most onnx-community and Xenova exports do).`);
    }
  }
  if (!set.has('config.json') && !set.has('genai_config.json')) {
    throw new EngineError('model-load', `${repo} has no config.json, so its architecture is unknown. Use a repository that ships config.json with the ONNX files.`);
  }
  const size = new Map(listing.map((f) => [f.path, f.size]));
  const bytes = (f: VariantFile) => [f.file, ...f.externalData].reduce((s, p) => s + (size.get(p) ?? 0), 0);
  const { file, reason } = pickVariant(variantsInListing(paths), bytes, variant, purpose, repo);
  return { variant: file.variant, reason, onnx: file.file, files: [...MODEL_SIDE_FILES.filter((f) => set.has(f)), file.file, ...file.externalData] };
}
