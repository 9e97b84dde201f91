/**
 * Seed variants of a model and the runner that explains a request under each variant. A model folder may
 * hold models trained with other seeds under seeds/<name>/ (the bundled ones do); "bundled" in a list of
 * seed variants stands for those.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../core/engineProtocol';
import { explain } from '../core/explain';
import { METHODS } from '../core/methods/registry';
import type { AttributionResult } from '../core/result';
import { explainVariation, type VariationSource } from '../core/trust/variation';
import { ensureAttention, ensureGradients, type LoadedModel } from './loadedModel';

export function seedVariantFolders(modelDir: string): string[] {
  const root = path.join(modelDir, 'seeds');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root)
    .filter((n) => fs.existsSync(path.join(root, n, 'config.json')) && fs.existsSync(path.join(root, n, 'onnx', 'model.onnx')))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .map((n) => path.join(root, n));
}

/** The list with "bundled" replaced by the model's own seed variants. */
export function expandSeedVariants(list: readonly string[], model: LoadedModel): string[] {
  const out: string[] = [];
  for (const item of list) {
    if (item.trim().toLowerCase() !== 'bundled') { if (item.trim()) out.push(item.trim()); continue; }
    const found = seedVariantFolders(model.folder.dir);
    if (!found.length) throw new EngineError('model-load', `${model.folder.id} has no seed variants (no seeds/*/ folders with a model). List seed-variant model folders in promptscope.seedVariants instead.`);
    out.push(...found);
  }
  return out;
}

/** Adds result.variation: the request explained again under every variant of the source. */
export async function addVariation(
  result: AttributionResult,
  source: VariationSource,
  main: LoadedModel,
  load: (id: string) => Promise<LoadedModel>,
  opts: { signal?: AbortSignal; cacheDir?: string; onProgress?: (done: number, total: number, message?: string) => void } = {},
): Promise<AttributionResult> {
  const resolved: VariationSource = source.kind === 'seed-variants' ? { kind: 'seed-variants', models: expandSeedVariants(source.models, main) } : source;
  const total = resolved.kind === 'seed-variants' ? resolved.models.length : resolved.kind === 'method-seeds' ? resolved.seeds.length : resolved.baselines.length;
  let done = 0;
  const variation = await explainVariation(result, resolved, async (req, label) => {
    opts.onProgress?.(done++, total, `Explaining ${path.basename(label)}`);
    const m = req.model && req.model !== result.request.model ? await load(req.model) : main;
    if (req.methods.some((name) => METHODS.find((x) => x.name === name)?.needsGradients)) await ensureGradients(m, opts.cacheDir);
    if (req.methods.some((name) => METHODS.find((x) => x.name === name)?.needsAttention)) await ensureAttention(m, opts.cacheDir);
    return explain(req, m, { signal: opts.signal });
  });
  return { ...result, variation };
}
