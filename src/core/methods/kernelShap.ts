/**
 * KernelSHAP (Lundberg & Lee 2017, as the shap library's KernelExplainer): a weighted linear fit of the target
 * score on which features are kept, with the Shapley kernel π(s) = (M−1) / (C(M,s)·s·(M−s)) as weights and the
 * constraints φ0 = f(none), Σφ = f(all) − f(none) solved exactly by eliminating one coefficient. Coalition
 * sizes are enumerated completely, smallest and largest first, while the budget covers them, and the rest of
 * the budget is sampled by size with each coalition paired with its complement; with a budget of every
 * coalition the fit is the exact Shapley value.
 */
import type { AttributionMethod, MethodContext, MethodOutput } from './method';
import { BASELINE_WORDS, CoalitionScorer, featureGroups, featureUnit, needFeatures, perturbationBaseline, spreadOverTokens, UNIT_PLURAL, wholeNumber } from './features';
import { normalEquations, sandwichCovariance, solveSymmetric, type WeightedDesign } from './linearFit';
import { mulberry32 } from './smoothGrad';

export interface CoalitionPlan {
  coalitions: Uint8Array[];
  weights: number[];
  /** Whether a coalition was drawn at random (it carries sampling error) rather than enumerated. */
  sampled: boolean[];
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** All subsets of {0..m-1} of size s, as masks. */
function* subsetsOfSize(m: number, s: number): Generator<Uint8Array> {
  const idx = Array.from({ length: s }, (_, i) => i);
  for (;;) {
    const c = new Uint8Array(m);
    for (const i of idx) c[i] = 1;
    yield c;
    let i = s - 1;
    while (i >= 0 && idx[i] === m - s + i) i--;
    if (i < 0) return;
    idx[i]++;
    for (let j = i + 1; j < s; j++) idx[j] = idx[j - 1] + 1;
  }
}

/** The coalitions a budget buys and their kernel weights (summing to 1), excluding none and all. */
export function planCoalitions(m: number, budget: number, rand: () => number): CoalitionPlan {
  const plan: CoalitionPlan = { coalitions: [], weights: [], sampled: [] };
  if (m < 2) return plan;
  const pairs = Math.floor((m - 1) / 2);
  const middle = m % 2 === 0;
  // Kernel mass of each size pair (s, m−s); the middle size of an even m stands alone.
  const sizes: number[] = [];
  for (let s = 1; s <= pairs; s++) sizes.push(s);
  if (middle) sizes.push(m / 2);
  const mass = sizes.map((s) => ((m - 1) / (s * (m - s))) * (2 * s === m ? 1 : 2));
  const total = mass.reduce((a, b) => a + b, 0);
  const share = mass.map((x) => x / total);
  let left = budget;
  let weightLeft = 1;
  let k = 0;
  for (; k < sizes.length; k++) {
    const s = sizes[k];
    const count = binomial(m, s) * (2 * s === m ? 1 : 2);
    // Enumerate the size when the budget's fair share of samples covers all its coalitions.
    if ((left * share[k]) / weightLeft < count - 1e-8) break;
    const each = share[k] / count;
    for (const c of subsetsOfSize(m, s)) {
      plan.coalitions.push(c);
      plan.weights.push(each);
      plan.sampled.push(false);
      if (2 * s !== m) {
        plan.coalitions.push(c.map((v) => 1 - v));
        plan.weights.push(each);
        plan.sampled.push(false);
      }
    }
    left -= count;
    weightLeft -= share[k];
  }
  if (k === sizes.length || left < 2) return plan;
  // Sample the remaining sizes in proportion to their kernel mass, each coalition with its complement.
  const rest = sizes.slice(k);
  const restShare = share.slice(k);
  const restTotal = restShare.reduce((a, b) => a + b, 0);
  const drawn = new Map<string, number>();
  const order: Uint8Array[] = [];
  for (let d = 0; d + 2 <= left; d += 2) {
    let u = rand() * restTotal;
    let j = 0;
    while (j < rest.length - 1 && u >= restShare[j]) u -= restShare[j++];
    const s = rest[j];
    const c = new Uint8Array(m);
    const perm = Array.from({ length: m }, (_, i) => i);
    for (let i = 0; i < s; i++) {
      const r = i + Math.floor(rand() * (m - i));
      [perm[i], perm[r]] = [perm[r], perm[i]];
      c[perm[i]] = 1;
    }
    for (const z of [c, c.map((v) => 1 - v)]) {
      const key = z.join('');
      if (!drawn.has(key)) order.push(z);
      drawn.set(key, (drawn.get(key) ?? 0) + 1);
    }
  }
  const draws = [...drawn.values()].reduce((a, b) => a + b, 0);
  for (const z of order) {
    plan.coalitions.push(z);
    plan.weights.push((weightLeft * drawn.get(z.join(''))!) / draws);
    plan.sampled.push(true);
  }
  return plan;
}

export interface ShapFit {
  phi: Float64Array;
  stderr: Float64Array;
}

/**
 * Constrained weighted least squares: y(z) − f0 ≈ Σ φ_i z_i with Σ φ_i = f1 − f0, solved by substituting
 * φ_last = (f1 − f0) − Σ_{i<last} φ_i.
 */
export function fitShapley(plan: CoalitionPlan, y: readonly number[], f0: number, f1: number, m: number): ShapFit {
  const total = f1 - f0;
  if (m === 1) return { phi: Float64Array.of(total), stderr: Float64Array.of(0) };
  const p = m - 1;
  const design: WeightedDesign = {
    x: plan.coalitions.map((z) => Float64Array.from({ length: p }, (_, i) => z[i] - z[m - 1])),
    y: Float64Array.from(plan.coalitions, (z, k) => y[k] - f0 - z[m - 1] * total),
    w: Float64Array.from(plan.weights),
  };
  const { a, b } = normalEquations(design, p);
  const head = solveSymmetric(a, b, p);
  const phi = new Float64Array(m);
  phi.set(head);
  phi[m - 1] = total - head.reduce((s, v) => s + v, 0);
  const stderr = new Float64Array(m);
  if (plan.sampled.some(Boolean)) {
    const cov = sandwichCovariance(design, p, a, head, (k) => plan.sampled[k]);
    let all = 0;
    for (let i = 0; i < p; i++) {
      stderr[i] = Math.sqrt(Math.max(0, cov[i * p + i]));
      for (let j = 0; j < p; j++) all += cov[i * p + j];
    }
    stderr[m - 1] = Math.sqrt(Math.max(0, all));
  }
  return { phi, stderr };
}

/** Every coalition for small prompts; otherwise a little over two per feature, at least 512. */
export function defaultCoalitions(m: number): number {
  return Math.min(2 ** Math.min(m, 40) - 2, Math.max(512, 2 * m + 64));
}

export const kernelShap: AttributionMethod = {
  name: 'kernel-shap',
  label: 'KernelSHAP',
  description: 'Shapley values from a weighted linear fit over random keep/remove patterns of tokens (or words, lines, sentences). Exact when the budget covers every pattern; scores sum to the full-minus-empty score.',
  needsGradients: false,
  async run(ctx: MethodContext): Promise<MethodOutput> {
    const unit = featureUnit(ctx);
    const groups = featureGroups(ctx, unit);
    needFeatures(groups, 'KernelSHAP');
    const baseline = perturbationBaseline(ctx);
    const m = groups.length;
    const samples = wholeNumber(ctx.params.samples, defaultCoalitions(m), 1, 1_000_000, 'KernelSHAP samples (coalitions)');
    const seed = wholeNumber(ctx.params.seed, 0, 0, 2 ** 32 - 1, 'The seed');
    const plan = planCoalitions(m, samples, mulberry32(seed));
    const scorer = new CoalitionScorer(ctx, groups, baseline);
    const none = new Uint8Array(m);
    const all = new Uint8Array(m).fill(1);
    const values = await scorer.scores([none, all, ...plan.coalitions], ctx.onProgress);
    const n = ctx.prompt.length;
    const scores: number[][] = [];
    const errors: number[][] = [];
    ctx.plan.rows.forEach((_, r) => {
      const fit = fitShapley(plan, values.slice(2).map((v) => v[r]), values[0][r], values[1][r], m);
      scores.push(spreadOverTokens(Array.from(fit.phi), groups, n));
      errors.push(spreadOverTokens(Array.from(fit.stderr), groups, n));
    });
    return {
      scores,
      params: { baseline, features: unit, samples, seed },
      meaning: `Shapley value (KernelSHAP fit over ${plan.coalitions.length + 2} keep/remove patterns): the ${unit}'s share of the change in the target log-probability from none to all ${UNIT_PLURAL[unit]} (absent ones ${BASELINE_WORDS[baseline]}); shared by its tokens`,
      batches: scorer.batches,
      seed,
      samples: plan.coalitions.length + 2,
      samplingError: errors,
    };
  },
};
