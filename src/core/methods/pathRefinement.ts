/**
 * The path integral of integrated gradients (and layer integrated gradients), refined until it adds up.
 *   attr_i = Σ_k w_k c_i(α_k),  c_i(α) = Σ_h δ_{i,h} ∂f/∂x_{i,h}(x' + α δ)
 * Σ_i attr_i approximates f(x) − f(x') = ∫₀¹ Σ_i c_i(α) dα, so the relative completeness gap is the rule's own error.
 * Rules are tried with doubled node counts (steps, 2·steps, … ≤ maxSteps) until that gap is at most the target. Each
 * node's c(α) (one number per token) is kept, so a nested rule (graded Clenshaw–Curtis) evaluates every node once and
 * a refinement costs only its new nodes; the endpoints α = 0 and α = 1 come with f(x') and f(x), which are
 * computed with their gradients anyway.
 */
import { quadrature, type QuadratureRule } from './quadrature';

/** Node counts of the rules tried: steps doubled up to maxSteps. */
export function refinementPlan(steps: number, maxSteps: number): number[] {
  const plan: number[] = [];
  for (let m = steps; m <= maxSteps; m *= 2) plan.push(m);
  return plan;
}

/** Path points to evaluate if every rule of the plan runs (nodes of weight 0 and the known endpoints excluded). */
export function plannedNodes(rule: QuadratureRule, plan: number[]): number {
  const seen = new Set<number>([0, 1]);
  for (const m of plan) {
    const q = quadrature(rule, m);
    q.nodes.forEach((a, k) => { if (q.weights[k] !== 0) seen.add(a); });
  }
  return seen.size - 2;
}

export interface PathRefinement {
  scores: number[];
  gap: number;
  relativeGap: number;
  /** Node count of the rule the scores come from, and of every rule tried. */
  steps: number;
  rounds: number[];
  /** Path points evaluated (the endpoints not counted). */
  points: number;
}

/** Per-token contributions Σ_h δ·g of one gradient, in float64. */
export function contributions(delta: Float32Array, grad: Float32Array, tokens: number): Float64Array {
  const h = delta.length / tokens;
  const c = new Float64Array(tokens);
  for (let i = 0; i < tokens; i++) {
    let s = 0;
    for (let j = i * h; j < (i + 1) * h; j++) s += delta[j] * grad[j];
    c[i] = s;
  }
  return c;
}

export interface PathEndpoints {
  /** f(x) − f(x'). */
  span: number;
  /** c at α = 0 and α = 1. */
  atBaseline: Float64Array;
  atInput: Float64Array;
}

/** What a path integrator is given: the gap target, the integrand at path points and the endpoints. */
export interface PathIntegrand {
  target: number;
  /**
   * c at each α ∉ {0, 1}, in order; `done` = path points evaluated before this call, for progress. Called at least
   * once, first for the first rule's nodes, so that the caller can batch its endpoints with them.
   */
  evaluate: (alphas: number[], done: number) => Promise<Float64Array[]>;
  /** The endpoints, read after the first evaluate. */
  endpoints: () => PathEndpoints;
}

export async function refinePath(o: PathIntegrand & { rule: QuadratureRule; plan: number[] }): Promise<PathRefinement> {
  const known = new Map<number, Float64Array>();
  let ends: PathEndpoints | undefined;
  let scores: number[] = [], gap = 0, rel = 0, points = 0;
  const rounds: number[] = [];
  for (const m of o.plan) {
    const q = quadrature(o.rule, m);
    const missing = [...new Set(q.nodes.filter((a, k) => q.weights[k] !== 0 && a !== 0 && a !== 1 && !known.has(a)))];
    if (missing.length > 0 || !ends) {
      const values = await o.evaluate(missing, points);
      missing.forEach((a, k) => known.set(a, values[k]));
      points += missing.length;
    }
    if (!ends) {
      ends = o.endpoints();
      known.set(0, ends.atBaseline).set(1, ends.atInput);
    }
    const acc = new Float64Array(ends.atInput.length);
    q.nodes.forEach((a, k) => {
      const w = q.weights[k];
      if (w === 0) return;
      const c = known.get(a)!;
      for (let i = 0; i < acc.length; i++) acc[i] += w * c[i];
    });
    scores = Array.from(acc);
    gap = Math.abs(scores.reduce((s, v) => s + v, 0) - ends.span);
    rel = gap === 0 ? 0 : gap / Math.max(Math.abs(ends.span), 1e-12);
    rounds.push(m);
    if (rel <= o.target) break;
  }
  return { scores, gap, relativeGap: rel, steps: rounds[rounds.length - 1], rounds, points };
}
