/** The path rules of integrated gradients and layer integrated gradients, behind one call. */
import { adaptiveBudget, adaptivePath } from './adaptivePath';
import { plannedNodes, refinePath, refinementPlan, type PathIntegrand, type PathRefinement } from './pathRefinement';
import type { QuadratureRule } from './quadrature';

/** A fixed rule doubled while the gap is above target (pathRefinement.ts), or panels split where the integrand is rough (adaptivePath.ts). */
export type PathRule = QuadratureRule | 'adaptive';

/** Path points evaluated at most (endpoints excluded), for progress. */
export function plannedPathPoints(rule: PathRule, steps: number, maxSteps: number): number {
  return rule === 'adaptive' ? adaptiveBudget(steps, maxSteps) : plannedNodes(rule, refinementPlan(steps, maxSteps));
}

export function integratePath(rule: PathRule, steps: number, maxSteps: number, o: PathIntegrand): Promise<PathRefinement> {
  return rule === 'adaptive' ? adaptivePath({ ...o, steps, maxSteps }) : refinePath({ ...o, rule, plan: refinementPlan(steps, maxSteps) });
}
