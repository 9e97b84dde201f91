/**
 * LIME for text (Ribeiro et al. 2016, as lime_text's LimeTextExplainer): sample keep/remove masks — the
 * original first, then for each sample a number of features to remove drawn uniformly from 1..M and that many
 * features removed at random — weight each by the exponential kernel √exp(−d²/σ²) on d = 100 × the cosine
 * distance between the mask and the all-kept mask (σ = 25), and fit a weighted ridge regression (α = 1, free
 * intercept) of the target score on the mask. The coefficients are the attributions; the weighted R² says how
 * well a linear picture fits the model near this prompt.
 */
import type { AttributionMethod, MethodContext, MethodOutput } from './method';
import { BASELINE_WORDS, CoalitionScorer, featureGroups, featureUnit, needFeatures, perturbationBaseline, spreadOverTokens, UNIT_PLURAL, wholeNumber } from './features';
import { weightedRidge } from './linearFit';
import { mulberry32 } from './smoothGrad';

export const LIME_KERNEL_WIDTH = 25;
export const LIME_RIDGE = 1;

/** lime_text's kernel on the cosine distance (× 100) between a mask and the all-kept mask. */
export function limeWeight(kept: number, m: number, width = LIME_KERNEL_WIDTH): number {
  const d = 100 * (kept === 0 ? 1 : 1 - Math.sqrt(kept / m));
  return Math.sqrt(Math.exp(-(d * d) / (width * width)));
}

export function limeMasks(m: number, samples: number, rand: () => number): Uint8Array[] {
  const masks = [new Uint8Array(m).fill(1)];
  for (let s = 1; s < samples; s++) {
    const remove = 1 + Math.floor(rand() * m);
    const z = new Uint8Array(m).fill(1);
    const idx = Array.from({ length: m }, (_, i) => i);
    for (let i = 0; i < remove; i++) {
      const j = i + Math.floor(rand() * (m - i));
      [idx[i], idx[j]] = [idx[j], idx[i]];
      z[idx[i]] = 0;
    }
    masks.push(z);
  }
  return masks;
}

export function defaultLimeSamples(m: number): number {
  return Math.max(512, 2 * m + 64);
}

export const lime: AttributionMethod = {
  name: 'lime',
  label: 'LIME',
  description: 'Coefficients of a weighted linear model fitted to the target score over random removals of tokens (or words, lines, sentences), weighted towards small edits. Reports the fit\u2019s R\u00b2: low R\u00b2, little trust.',
  needsGradients: false,
  async run(ctx: MethodContext): Promise<MethodOutput> {
    const unit = featureUnit(ctx);
    const groups = featureGroups(ctx, unit);
    needFeatures(groups, 'LIME');
    const baseline = perturbationBaseline(ctx);
    const m = groups.length;
    const samples = wholeNumber(ctx.params.samples, defaultLimeSamples(m), 2, 1_000_000, 'LIME samples');
    const seed = wholeNumber(ctx.params.seed, 0, 0, 2 ** 32 - 1, 'The seed');
    const masks = limeMasks(m, samples, mulberry32(seed));
    const scorer = new CoalitionScorer(ctx, groups, baseline);
    const values = await scorer.scores(masks, ctx.onProgress);
    const x = masks.map((z) => Float64Array.from(z));
    const w = Float64Array.from(masks, (z) => limeWeight(z.reduce((a, b) => a + b, 0), m));
    const n = ctx.prompt.length;
    const scores: number[][] = [];
    const errors: number[][] = [];
    const fitR2: number[] = [];
    ctx.plan.rows.forEach((_, r) => {
      const fit = weightedRidge({ x, y: Float64Array.from(values, (v) => v[r]), w }, m, LIME_RIDGE, (k) => k > 0);
      scores.push(spreadOverTokens(Array.from(fit.coef), groups, n));
      errors.push(spreadOverTokens(Array.from(fit.stderr), groups, n));
      fitR2.push(fit.r2);
    });
    return {
      scores,
      params: { baseline, features: unit, samples, seed },
      meaning: `LIME coefficient: change in the target log-probability a weighted linear fit over ${samples} random removals gives the ${unit} being present (removed ${UNIT_PLURAL[unit]} ${BASELINE_WORDS[baseline]}); shared by its tokens`,
      batches: scorer.batches,
      seed,
      samples,
      samplingError: errors,
      fitR2,
    };
  },
};
