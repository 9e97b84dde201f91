/**
 * Which variant of a model folder to load. A named variant must be present; `auto` picks per purpose:
 *   - gradients: the augmented graph dequantises every weight to fp32 anyway, so its cost is the same for all
 *     variants, and the most precise one gives the most faithful gradients: fp32, then fp16, then the
 *     quantised ones;
 *   - forward passes (occlusion…): fp32, whose numbers are the model's own, when it fits in memory; when it
 *     would take more than half the free memory, the best-supported smaller variant that fits.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineError } from '../core/engineProtocol';
import {
  missingVariantMessage, variantsInFolder, type ConcreteVariant, type ModelVariant, type VariantFile,
} from './modelVariants';

export type VariantPurpose = 'forward' | 'gradients';

export interface VariantChoice {
  variant: ConcreteVariant;
  /** Absolute path of the ONNX file. */
  onnxPath: string;
  /** Bytes of the ONNX file and its external data. */
  bytes: number;
  /** Why this one, in a sentence for the user. */
  reason: string;
  /** Every variant the folder has. */
  present: ConcreteVariant[];
}

const GRADIENT_ORDER: ConcreteVariant[] = ['fp32', 'fp16', 'q4', 'int8', 'uint8', 'quantized', 'q4f16', 'bnb4'];
/** Smaller variants for forward passes when fp32 does not fit, best first (onnxruntime's CPU kernels). */
const FORWARD_FALLBACK: ConcreteVariant[] = ['q4', 'quantized', 'int8', 'uint8', 'fp16', 'q4f16', 'bnb4'];

function sizeOf(dir: string, f: VariantFile): number {
  return [f.file, ...f.externalData].reduce((s, rel) => s + fs.statSync(path.join(dir, rel)).size, 0);
}

function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.max(1, Math.round(bytes / 1e6))} MB`;
}

export function chooseVariant(dir: string, requested: ModelVariant, purpose: VariantPurpose, freeMemory = os.freemem()): VariantChoice {
  const files = variantsInFolder(dir);
  const { file, reason } = pickVariant(files, (f) => sizeOf(dir, f), requested, purpose, dir, freeMemory);
  return { variant: file.variant, onnxPath: path.join(dir, file.file), bytes: sizeOf(dir, file), reason, present: files.map((f) => f.variant) };
}

/**
 * The choice itself, on any listing of variant files with their sizes: a local folder, or a hub repository's
 * file list before anything is downloaded (so that only the chosen variant is fetched).
 */
export function pickVariant(
  files: readonly VariantFile[],
  sizeOfFile: (f: VariantFile) => number,
  requested: ModelVariant,
  purpose: VariantPurpose,
  where: string,
  freeMemory = os.freemem(),
): { file: VariantFile; reason: string } {
  const present = files.map((f) => f.variant);
  const pick = (f: VariantFile, reason: string) => ({ file: f, reason });
  if (files.length === 0) throw new EngineError('model-load', missingVariantMessage('fp32', [], where));
  if (requested !== 'auto') {
    const f = files.find((x) => x.variant === requested);
    if (!f) throw new EngineError('model-load', missingVariantMessage(requested, present, where));
    return pick(f, 'as set in promptscope.modelVariant / --variant');
  }
  if (files.length === 1) return pick(files[0], 'the only variant in the folder');
  const byName = (v: ConcreteVariant) => files.find((x) => x.variant === v);
  if (purpose === 'gradients') {
    const f = GRADIENT_ORDER.map(byName).find((x) => x)!;
    return pick(f, 'gradients are computed in fp32 from dequantised weights, so the most precise variant present gives the most faithful gradients at the same cost');
  }
  const fp32 = byName('fp32');
  const budget = freeMemory / 2;
  if (fp32 && sizeOfFile(fp32) <= budget) return pick(fp32, 'full precision (exact), and it fits in memory');
  const candidates = FORWARD_FALLBACK.map(byName).filter((x): x is VariantFile => !!x);
  const fits = candidates.find((f) => sizeOfFile(f) <= budget) ?? [...candidates].sort((a, b) => sizeOfFile(a) - sizeOfFile(b))[0] ?? fp32!;
  const why = fp32 ? `fp32 (${gb(sizeOfFile(fp32))}) would take more than half the free memory (${gb(freeMemory)})` : 'no fp32 variant';
  return pick(fits, `${why}; ${fits.variant} is the best-supported smaller variant on CPU`);
}
