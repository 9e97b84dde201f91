/**
 * Shapley value sampling (Castro et al. 2009; as Captum's ShapleyValueSampling): walk random permutations of
 * the features, adding one at a time to the occluded prompt; a feature's sample is the change in the target
 * score when it joins. Each permutation's samples sum exactly to f(all) − f(none), so the mean is efficient at
 * any sample count. Permutations come in antithetic pairs (a permutation and its reverse), which lowers the
 * variance; the standard error is taken over the pairs.
 */
import type { AttributionMethod, MethodContext, MethodOutput } from './method';
import { BASELINE_WORDS, CoalitionScorer, featureGroups, featureUnit, needFeatures, perturbationBaseline, spreadOverTokens, UNIT_PLURAL, wholeNumber } from './features';
import { mulberry32 } from './smoothGrad';

/** About 500 forward passes by default, and at least one antithetic pair. */
export function defaultPermutations(features: number): number {
  return Math.max(2, Math.min(64, 2 * Math.ceil(256 / Math.max(1, features - 1))));
}

export function shuffled(n: number, rand: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Mean and standard error of the mean per column over sample rows (standard error undefined below 2 rows). */
export function meanAndStdErr(samples: readonly Float64Array[], width: number): { mean: Float64Array; stderr?: Float64Array } {
  const n = samples.length;
  const mean = new Float64Array(width);
  for (const s of samples) for (let i = 0; i < width; i++) mean[i] += s[i] / n;
  if (n < 2) return { mean };
  const stderr = new Float64Array(width);
  for (const s of samples) for (let i = 0; i < width; i++) stderr[i] += (s[i] - mean[i]) ** 2;
  for (let i = 0; i < width; i++) stderr[i] = Math.sqrt(stderr[i] / (n - 1) / n);
  return { mean, stderr };
}

export const shapleySampling: AttributionMethod = {
  name: 'shapley-sampling',
  label: 'Shapley value sampling',
  description: 'Average change in the target score when a token (or word, line, sentence) joins the prompt, over random orders. Scores sum exactly to the full-minus-empty score; seeded, with a standard error.',
  needsGradients: false,
  async run(ctx: MethodContext): Promise<MethodOutput> {
    const unit = featureUnit(ctx);
    const groups = featureGroups(ctx, unit);
    needFeatures(groups, 'Shapley sampling');
    const baseline = perturbationBaseline(ctx);
    const m = groups.length;
    const samples = wholeNumber(ctx.params.samples, defaultPermutations(m), 1, 10000, 'Shapley samples (permutations)');
    const seed = wholeNumber(ctx.params.seed, 0, 0, 2 ** 32 - 1, 'The seed');
    const rand = mulberry32(seed);
    const perms: number[][] = [];
    for (let s = 0; s < samples; s++) perms.push(s % 2 === 0 ? shuffled(m, rand) : [...perms[s - 1]].reverse());
    // Coalition k of a permutation holds its first k features.
    const coalitions: Uint8Array[] = [];
    for (const perm of perms) {
      const c = new Uint8Array(m);
      coalitions.push(c.slice());
      for (const f of perm) {
        c[f] = 1;
        coalitions.push(c.slice());
      }
    }
    const scorer = new CoalitionScorer(ctx, groups, baseline);
    const values = await scorer.scores(coalitions, ctx.onProgress);
    const rows = ctx.plan.rows.length;
    // One sample row per antithetic pair (or lone permutation): per-feature contributions, for each target row.
    const units: Float64Array[][] = ctx.plan.rows.map(() => []);
    perms.forEach((perm, p) => {
      const base = p * (m + 1);
      for (let r = 0; r < rows; r++) {
        const contrib = new Float64Array(m);
        perm.forEach((f, k) => (contrib[f] = values[base + k + 1][r] - values[base + k][r]));
        const paired = p % 2 === 1;
        if (paired) {
          const prev = units[r][units[r].length - 1];
          for (let f = 0; f < m; f++) prev[f] = (prev[f] + contrib[f]) / 2;
        } else units[r].push(contrib);
      }
    });
    const n = ctx.prompt.length;
    const scores: number[][] = [];
    const errors: number[][] = [];
    let haveError = true;
    for (let r = 0; r < rows; r++) {
      const { mean, stderr } = meanAndStdErr(units[r], m);
      scores.push(spreadOverTokens(Array.from(mean), groups, n));
      if (stderr) errors.push(spreadOverTokens(Array.from(stderr), groups, n));
      else haveError = false;
    }
    return {
      scores,
      params: { baseline, features: unit, samples, seed },
      meaning: `Shapley value: mean change in the target log-probability when the ${unit} joins the others, over ${samples} random orders (absent ${UNIT_PLURAL[unit]} ${BASELINE_WORDS[baseline]}); a ${unit}'s value is shared by its tokens`,
      batches: scorer.batches,
      seed,
      samples,
      ...(haveError ? { samplingError: errors } : {}),
    };
  },
};
