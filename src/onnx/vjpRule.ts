/** The shape of one vector–Jacobian product rule; rule tables (vjpRules, normalizationRules) import it from here. */
import type { Node } from './graph';
import type { GradContext } from './gradContext';

/**
 * Receives the upstream gradients of the node's outputs (undefined = zero) and which inputs need a gradient;
 * returns one gradient name (or undefined) per input.
 */
export type VjpRule = (c: GradContext, n: Node, gy: (string | undefined)[], needs: boolean[]) => (string | undefined)[];
