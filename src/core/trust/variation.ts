/**
 * One result explained again under variants — models trained with other seeds, other seeds of a stochastic
 * method, other baselines — and the per-token mean, standard deviation and sign agreement, with the
 * result's signal, noise and SNR (signalNoise.ts), per method and target row.
 */
import { EngineError } from '../engineProtocol';
import type { ExplainRequest, OcclusionBaseline, TargetSpec } from '../request';
import type { AttributionResult } from '../result';
import { signalNoise, type SignalNoise } from './signalNoise';

export type VariationSource =
  /** Models of the same architecture and tokenizer trained with other seeds (folders or bundled names). */
  | { kind: 'seed-variants'; models: string[] }
  /** Other seeds of the stochastic methods that ran (SmoothGrad, sampling methods). */
  | { kind: 'method-seeds'; seeds: number[] }
  /** Other occlusion baselines for the occlusion methods. */
  | { kind: 'baselines'; baselines: OcclusionBaseline[] };

export const VARIATION_VERSION = 1;

export interface VariationReport {
  version: typeof VARIATION_VERSION;
  source: VariationSource['kind'];
  /** The variants, the result itself first (its model, seed or baseline). */
  variants: string[];
  measure: string;
  methods: { method: string; rows: SignalNoise[] }[];
  /** Methods left out, with the reason (deterministic methods have no seed to vary). */
  skipped: { method: string; reason: string }[];
}

const OCCLUSION_METHODS = new Set(['occlusion', 'sliding-window', 'word-occlusion', 'coarse-to-fine']);

/** The target the result explained, pinned so that every variant explains exactly the same tokens. */
export function pinnedTarget(result: AttributionResult): TargetSpec {
  const spec = result.target.spec;
  const rows = result.target.rows;
  if (result.model.kind === 'sequence-classifier') return { kind: 'class', label: rows[0].text };
  if (spec.kind === 'next-token') return { kind: 'token', tokenId: rows[0].tokenId };
  if (spec.kind === 'generate') return { kind: 'forced', text: rows.map((r) => r.text).join('') };
  return spec;
}

/** Runs one variant request (the engine loads models, prepares gradients and calls explain). */
export type VariantRunner = (req: ExplainRequest, variant: string) => Promise<AttributionResult>;

export async function explainVariation(result: AttributionResult, source: VariationSource, run: VariantRunner): Promise<VariationReport> {
  const base: ExplainRequest = { ...result.request, target: pinnedTarget(result), trust: false };
  delete (base as { variation?: unknown }).variation;
  const skipped: VariationReport['skipped'] = [];
  let methods = result.runs.map((r) => r.method);
  const variants: { label: string; req: ExplainRequest }[] = [];
  let first: string;
  let measure: string;
  switch (source.kind) {
    case 'seed-variants': {
      if (!source.models.length) throw new EngineError('bad-target', 'No seed variants to compare: list model folders (or "bundled") in promptscope.seedVariants.');
      first = result.model.id;
      for (const m of source.models) variants.push({ label: m, req: { ...base, model: m } });
      measure = `attribution of each token by the same method under ${source.models.length + 1} models trained with different seeds (same data and recipe)`;
      break;
    }
    case 'method-seeds': {
      const stochastic = result.runs.filter((r) => r.diagnostics.seed !== undefined);
      for (const r of result.runs) if (r.diagnostics.seed === undefined) skipped.push({ method: r.method, reason: 'deterministic: the same for every seed' });
      methods = stochastic.map((r) => r.method);
      const own = result.request.params?.seed ?? stochastic[0]?.diagnostics.seed ?? 0;
      first = `seed ${own}`;
      for (const s of source.seeds.filter((x) => x !== own)) variants.push({ label: `seed ${s}`, req: { ...base, methods, params: { ...base.params, seed: s } } });
      measure = `attribution of each token by the same method with ${variants.length + 1} random seeds`;
      break;
    }
    case 'baselines': {
      for (const r of result.runs) if (!OCCLUSION_METHODS.has(r.method)) skipped.push({ method: r.method, reason: 'has no occlusion baseline' });
      methods = result.runs.filter((r) => OCCLUSION_METHODS.has(r.method)).map((r) => r.method);
      const own = (result.runs.find((r) => OCCLUSION_METHODS.has(r.method))?.params.baseline ?? 'delete') as OcclusionBaseline;
      first = `baseline ${own}`;
      for (const b of source.baselines.filter((x) => x !== own)) variants.push({ label: `baseline ${b}`, req: { ...base, methods, params: { ...base.params, baseline: b } } });
      measure = `attribution of each token by the same method with ${variants.length + 1} occlusion baselines`;
      break;
    }
  }
  if (!methods.length || !variants.length) {
    return { version: VARIATION_VERSION, source: source.kind, variants: [first], measure, methods: [], skipped };
  }
  const ids = result.input.tokens.map((t) => t.id).join(',');
  const outs: AttributionResult[] = [];
  for (const v of variants) {
    const out = await run(v.req, v.label);
    if (out.input.tokens.map((t) => t.id).join(',') !== ids) {
      throw new EngineError('bad-target', `Variant ${v.label} tokenizes the prompt differently; seed variants must share the tokenizer of ${result.model.id}.`);
    }
    if (out.target.rows.length !== result.target.rows.length) throw new EngineError('bad-target', `Variant ${v.label} explains a different number of target tokens.`);
    outs.push(out);
  }
  const visible = result.input.tokens.filter((t) => !t.special).map((t) => t.index);
  const report: VariationReport['methods'] = methods.map((method) => {
    const own = result.runs.find((r) => r.method === method)!;
    const all = [own, ...outs.map((o) => o.runs.find((r) => r.method === method)!)];
    return { method, rows: result.target.rows.map((_, row) => signalNoise(all.map((r) => r.scores[row]), visible)) };
  });
  return { version: VARIATION_VERSION, source: source.kind, variants: [first, ...variants.map((v) => v.label)], measure, methods: report, skipped };
}
