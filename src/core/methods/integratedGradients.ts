/**
 * Integrated gradients (Sundararajan et al. 2017) in embedding space:
 *   attr_i = Σ_h (x − x')_{i,h} · ∫₀¹ ∂f/∂x_{i,h}(x' + α (x − x')) dα
 * with the path integral done by Gauss–Legendre quadrature (default; exact for polynomials of degree 2m − 1,
 * exponentially convergent on smooth paths) or the Riemann midpoint rule. f(x) and f(x') are evaluated too (two
 * extra items in the same batches) to report the completeness gap |Σ_i attr_i − (f(x) − f(x'))|. When the gap
 * relative to |f(x) − f(x')| is above the target (1 %), the rule is redone with twice the nodes, up to maxSteps:
 * deep models whose path is rough get more passes, smooth ones stop early.
 */
import type { GradientBackend } from '../modelRunner';
import {
  checkRequest, gradientItem, gradientsInBatches, type GradientMethodOptions, type GradientMethodRequest,
  type GradientMethodResult,
} from './gradientSaliency';
import { quadrature, type QuadratureRule } from './quadrature';

export type IntegratedGradientsBaseline = 'zero' | 'pad' | 'mean';

/** Default nodes of the first rule, the adaptive limit and the relative gap that ends refinement. */
export const IG_DEFAULT_STEPS = 16;
export const IG_DEFAULT_MAX_STEPS = 64;
export const IG_GAP_TARGET = 0.01;

export interface IntegratedGradientsParams {
  /** Nodes of the first rule (default 16). */
  steps?: number;
  /** Largest rule tried when the relative gap stays above 1 % (default 64; ≤ steps: no refinement). */
  maxSteps?: number;
  rule?: QuadratureRule;
  /** Baseline embeddings x' (default 'zero'). 'pad' needs padTokenId. */
  baseline?: IntegratedGradientsBaseline;
  padTokenId?: number;
}

export interface IntegratedGradientsDiagnostics {
  /** Nodes of the rule the scores come from. */
  steps: number;
  baseline: IntegratedGradientsBaseline;
  rule: QuadratureRule;
  /** Node counts tried, in order (one entry when the first rule met the target). */
  rounds: number[];
  scoreAtInput: number;
  scoreAtBaseline: number;
  /** |Σ attributions − (f(x) − f(x'))|. */
  completenessGap: number;
  /** completenessGap / |f(x) − f(x')| (NaN-free: 0 when both are 0). */
  relativeCompletenessGap: number;
  backwardPasses: number;
  calls: number;
}

export function baselineEmbeddings(backend: GradientBackend, inputIds: number[], kind: IntegratedGradientsBaseline, padTokenId?: number): Float32Array {
  const n = inputIds.length, h = backend.hiddenSize;
  switch (kind) {
    case 'zero': return new Float32Array(n * h);
    case 'mean': {
      const m = backend.meanEmbedding();
      const out = new Float32Array(n * h);
      for (let i = 0; i < n; i++) out.set(m, i * h);
      return out;
    }
    case 'pad':
      if (padTokenId === undefined) throw new Error('The pad-token baseline needs a pad token id; this model has none. Use the zero or mean baseline.');
      return backend.embed(inputIds.map(() => padTokenId));
  }
}

export async function integratedGradients(
  backend: GradientBackend,
  req: GradientMethodRequest & IntegratedGradientsParams,
  opts: GradientMethodOptions = {},
): Promise<GradientMethodResult<IntegratedGradientsDiagnostics>> {
  checkRequest(backend, req);
  const steps = Math.floor(req.steps ?? IG_DEFAULT_STEPS);
  if (!(steps >= 1 && steps <= 4096)) throw new Error(`Integrated gradients steps must be between 1 and 4096 (got ${req.steps}).`);
  const maxSteps = Math.min(4096, Math.max(steps, Math.floor(req.maxSteps ?? IG_DEFAULT_MAX_STEPS)));
  const rule = req.rule ?? 'gauss-legendre';
  const baseline = req.baseline ?? 'zero';
  const x = backend.embed(req.inputIds);
  const x0 = baselineEmbeddings(backend, req.inputIds, baseline, req.padTokenId);
  const h = backend.hiddenSize;
  const n = req.inputIds.length;
  const delta = Float32Array.from(x, (v, k) => v - x0[k]);
  // Passes planned if every round runs, for progress (refinement stops early when the gap is small).
  const plan: number[] = [];
  for (let m = steps; m <= maxSteps; m *= 2) plan.push(m);
  const total = 2 + plan.reduce((a, b) => a + b, 0);
  let done = 0;
  let fx = 0, fb = 0, calls = 0, passes = 0;
  let scores: number[] = [];
  let gap = 0, rel = 0;
  const rounds: number[] = [];
  for (const [r, m] of plan.entries()) {
    const q = quadrature(rule, m);
    const items = r === 0 ? [gradientItem(req, x), gradientItem(req, x0)] : [];
    for (const a of q.nodes) {
      const xk = new Float32Array(x0.length);
      for (let j = 0; j < xk.length; j++) xk[j] = x0[j] + a * delta[j];
      items.push(gradientItem(req, xk));
    }
    const start = done;
    const out = await gradientsInBatches(backend, items, { ...opts, onProgress: (d) => opts.onProgress?.(start + d, total) });
    done += items.length;
    calls += out.calls;
    passes += items.length;
    const path = r === 0 ? out.values.slice(2) : out.values;
    if (r === 0) { fx = out.values[0].score; fb = out.values[1].score; }
    // Weighted sum of the path gradients in float64 so many nodes do not lose precision.
    const avg = new Float64Array(x.length);
    path.forEach((v, k) => {
      const w = q.weights[k], g = v.grad;
      for (let j = 0; j < avg.length; j++) avg[j] += w * g[j];
    });
    scores = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = i * h; j < (i + 1) * h; j++) s += delta[j] * avg[j];
      scores[i] = s;
    }
    const sum = scores.reduce((a, b) => a + b, 0);
    gap = Math.abs(sum - (fx - fb));
    rel = gap === 0 ? 0 : gap / Math.max(Math.abs(fx - fb), 1e-12);
    rounds.push(m);
    if (rel <= IG_GAP_TARGET) break;
  }
  opts.onProgress?.(total, total);
  return {
    scores,
    score: fx,
    diagnostics: {
      steps: rounds[rounds.length - 1], baseline, rule, rounds, scoreAtInput: fx, scoreAtBaseline: fb, completenessGap: gap,
      relativeCompletenessGap: rel, backwardPasses: passes, calls,
    },
  };
}
