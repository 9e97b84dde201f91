/**
 * VJP rules for the normalisation ops kept as single forward nodes (LayerNormalization, opset 17, and
 * SimplifiedLayerNormalization = RMSNorm, which onnxruntime registers in the default domain). With
 * x̂ the normalised input, r = 1/σ and ĝ = gy·scale (means over the normalised axes):
 *   LayerNorm: dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))      RMSNorm: dx = r·(ĝ − x̂·mean(ĝ·x̂))
 *   dscale = Σ gy·x̂, dbias = Σ gy (un-broadcast to their shapes).
 */
import { Node } from './graph';
import { GradContext } from './gradContext';
import type { VjpRule } from './vjpRule';

function normAxes(c: GradContext, n: Node): number[] {
  const axis = n.attrs.axis?.kind === 'int' ? n.attrs.axis.value : -1;
  if (axis === -1) return [-1];
  const r = c.rank(n.inputs[0]);
  if (r === undefined) throw new Error('normalisation over several axes needs the input rank.');
  const a = axis < 0 ? axis + r : axis;
  return Array.from({ length: r - a }, (_, i) => a + i);
}

const epsilonOf = (n: Node): number => (n.attrs.epsilon?.kind === 'float' ? n.attrs.epsilon.value : 1e-5);

function affineGrads(c: GradContext, n: Node, gy: string, xhat: string, needs: boolean[]): [string | undefined, string | undefined] {
  const [, scale, bias] = n.inputs;
  return [needs[1] ? c.sumTo(c.mul(gy, xhat), scale) : undefined, needs[2] && bias ? c.sumTo(gy, bias) : undefined];
}

export const layerNormalizationRule: VjpRule = (c, n, gy, needs) => {
  const g = gy[0];
  if (!g) return [];
  const axes = normAxes(c, n);
  const x = n.inputs[0];
  // Reuse the forward kernel's saved statistics (optional outputs Mean, InvStdDev) instead of recomputing.
  if (!n.outputs[1]) n.outputs[1] = c.g.fresh('ln_mean');
  if (!n.outputs[2]) n.outputs[2] = c.g.fresh('ln_inv_std');
  const r = n.outputs[2];
  const xhat = c.mul(c.sub(x, n.outputs[1]), r);
  const gh = c.mul(g, n.inputs[1]);
  const inner = c.sub(c.sub(gh, c.reduceMean(gh, axes, true)), c.mul(xhat, c.reduceMean(c.mul(gh, xhat), axes, true)));
  return [needs[0] ? c.mul(r, inner) : undefined, ...affineGrads(c, n, g, xhat, needs)];
};

export const rmsNormalizationRule: VjpRule = (c, n, gy, needs) => {
  const g = gy[0];
  if (!g) return [];
  const axes = normAxes(c, n);
  const x = n.inputs[0];
  const r = c.op('Reciprocal', [c.op('Sqrt', [c.add(c.reduceMean(c.mul(x, x), axes, true), c.f32(epsilonOf(n)))])]);
  const xhat = c.mul(x, r);
  const gh = c.mul(g, n.inputs[1]);
  const inner = c.sub(gh, c.mul(xhat, c.reduceMean(c.mul(gh, xhat), axes, true)));
  return [needs[0] ? c.mul(r, inner) : undefined, ...affineGrads(c, n, g, xhat, needs)];
};

export const NORMALIZATION_RULES: Record<string, VjpRule> = {
  LayerNormalization: layerNormalizationRule,
  SimplifiedLayerNormalization: rmsNormalizationRule,
};

