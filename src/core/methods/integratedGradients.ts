/**
 * Integrated gradients (Sundararajan et al. 2017) in embedding space:
 *   attr_i = Σ_h (x − x')_{i,h} · ∫₀¹ ∂f/∂x_{i,h}(x' + α (x − x')) dα
 * with the path integral done by graded Clenshaw–Curtis quadrature (default: nested, with nodes clustered near the
 * baseline, see quadrature.ts), Gauss–Legendre or the Riemann midpoint rule. f(x) and f(x') are evaluated too (two
 * extra items in the first batches, whose gradients are the path's endpoints) to report the completeness gap
 * |Σ_i attr_i − (f(x) − f(x'))|. While the gap relative to |f(x) − f(x')| is above the target (1 %), the rule is
 * doubled, up to maxSteps (pathRefinement.ts): deep models whose path is rough get more passes, smooth ones stop early.
 */
import type { GradientBackend, GradientItem } from '../modelRunner';
import {
  checkRequest, gradientItem, gradientsInBatches, type GradientMethodOptions, type GradientMethodRequest,
  type GradientMethodResult,
} from './gradientSaliency';
import { integratePath, plannedPathPoints, type PathRule } from './pathIntegral';
import { contributions, type PathEndpoints } from './pathRefinement';

export type IntegratedGradientsBaseline = 'zero' | 'pad' | 'mean';

/** Default nodes of the first rule, the adaptive limit and the relative gap that ends refinement. */
export const IG_DEFAULT_STEPS = 16;
export const IG_DEFAULT_MAX_STEPS = 64;
export const IG_GAP_TARGET = 0.01;
export const IG_DEFAULT_RULE: PathRule = 'adaptive';

export interface IntegratedGradientsParams {
  /** Nodes of the first rule (default 16). */
  steps?: number;
  /** Largest rule tried when the relative gap stays above 1 % (default 64; ≤ steps: no refinement). */
  maxSteps?: number;
  rule?: PathRule;
  /** Baseline embeddings x' (default 'zero'). 'pad' needs padTokenId. */
  baseline?: IntegratedGradientsBaseline;
  padTokenId?: number;
}

export interface IntegratedGradientsDiagnostics {
  /** Nodes of the rule the scores come from. */
  steps: number;
  baseline: IntegratedGradientsBaseline;
  rule: PathRule;
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
  const rule = req.rule ?? IG_DEFAULT_RULE;
  const baseline = req.baseline ?? 'zero';
  const x = backend.embed(req.inputIds);
  const x0 = baselineEmbeddings(backend, req.inputIds, baseline, req.padTokenId);
  const n = req.inputIds.length;
  const delta = Float32Array.from(x, (v, k) => v - x0[k]);
  // Passes if refinement runs to its limit, for progress (it stops early when the gap is small).
  const total = 2 + plannedPathPoints(rule, steps, maxSteps);
  let calls = 0;
  const run = async (items: GradientItem[], start: number) => {
    const out = await gradientsInBatches(backend, items, { ...opts, onProgress: (d) => opts.onProgress?.(start + d, total) });
    calls += out.calls;
    return out.values;
  };
  // f(x) and f(x') with their gradients (the path's endpoints) ride in the first rule's batches.
  let ends: PathEndpoints | undefined;
  let fx = 0, fb = 0;
  const r = await integratePath(rule, steps, maxSteps, {
    target: IG_GAP_TARGET,
    evaluate: async (alphas, done) => {
      const items = alphas.map((a) => {
        const xk = new Float32Array(x0.length);
        for (let j = 0; j < xk.length; j++) xk[j] = x0[j] + a * delta[j];
        return gradientItem(req, xk);
      });
      if (ends) return (await run(items, 2 + done)).map((v) => contributions(delta, v.grad, n));
      const [atX, atB, ...path] = await run([gradientItem(req, x), gradientItem(req, x0), ...items], 0);
      fx = atX.score;
      fb = atB.score;
      ends = { span: fx - fb, atBaseline: contributions(delta, atB.grad, n), atInput: contributions(delta, atX.grad, n) };
      return path.map((v) => contributions(delta, v.grad, n));
    },
    endpoints: () => ends!,
  });
  opts.onProgress?.(total, total);
  return {
    scores: r.scores,
    score: fx,
    diagnostics: {
      steps: r.steps, baseline, rule, rounds: r.rounds, scoreAtInput: fx, scoreAtBaseline: fb, completenessGap: r.gap,
      relativeCompletenessGap: r.relativeGap, backwardPasses: 2 + r.points, calls,
    },
  };
}
