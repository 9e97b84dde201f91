/**
 * Reverse-mode differentiation of an ONNX graph: appends VJP nodes (standard ONNX ops) that compute
 * d(Σ ys)/d(wrt) and returns the gradient value names. Weights are constants; only paths from `wrt` to `ys`
 * are differentiated, so shape arithmetic, masks and integer paths never need rules.
 */
import { Graph, Node, T } from './graph';
import { GradContext } from './gradContext';
import { inferShapes } from './shapeInference';
import { DataType, isFloatType, makeTensor } from './tensorData';
import { NON_DIFFERENTIABLE_OPS, VJP_RULES, differentiableInputs } from './vjpRules';

export class UnsupportedGradientError extends Error {
  constructor(readonly ops: string[]) {
    super(
      `Gradients are not available for this model: no differentiation rule for ${ops.join(', ')}. ` +
        'Use a perturbation method (occlusion) instead.',
    );
    this.name = 'UnsupportedGradientError';
  }
}

const opKey = (n: Node): string => (n.domain ? `${n.domain}:${n.opType}` : n.opType);

export interface GradientRequest {
  /** Values whose sum is differentiated; each is seeded with ones (per-item scores give per-item gradients). */
  ys: string[];
  wrt: string[];
}

export function appendGradients(g: Graph, req: GradientRequest): Map<string, string> {
  const info = inferShapes(g);
  const c = new GradContext(g, info);
  const forward = [...g.nodes];

  // Forward: values that depend differentiably on `wrt`.
  const live = new Set(req.wrt);
  const stopped = (n: Node): boolean => n.outputs.some((o) => g.stopGradient.has(o));
  for (const n of forward) {
    if (n.domain === '' && NON_DIFFERENTIABLE_OPS.has(n.opType)) continue;
    if (stopped(n)) continue;
    if (n.opType === 'Cast' && n.domain === '' && !isFloatType(n.attrs.to?.value as number)) continue;
    const isDiff = differentiableInputs(n);
    if (!n.inputs.some((x, i) => isDiff(i) && live.has(x))) continue;
    for (const o of n.outputs) {
      const t = info.types.get(o);
      if (t === undefined || isFloatType(t)) live.add(o);
    }
  }
  // Backward: values the targets depend on.
  const needed = new Set(req.ys);
  for (let k = forward.length - 1; k >= 0; k--) {
    const n = forward[k];
    // A stopped value's inputs need no gradient (so ops behind it, e.g. quantisers, need no rule).
    if (n.outputs.some((o) => needed.has(o)) && !stopped(n)) for (const i of n.inputs) needed.add(i);
  }
  const active = forward.filter((n) => n.outputs.some((o) => live.has(o) && needed.has(o)));
  const missing = [...new Set(active.filter((n) => !VJP_RULES[opKey(n)]).map(opKey))];
  if (missing.length) throw new UnsupportedGradientError(missing);

  const contributions = new Map<string, string[]>();
  const push = (name: string, grad: string): void => {
    (contributions.get(name) ?? contributions.set(name, []).get(name)!).push(grad);
  };
  const total = (name: string): string | undefined => {
    const parts = contributions.get(name);
    if (!parts || parts.length === 0) return undefined;
    const s = parts.length === 1 ? parts[0] : g.op('Sum', parts);
    contributions.set(name, [s]);
    return c.sameShape(s, name);
  };
  const one = T(makeTensor('', DataType.FLOAT, [1], Float32Array.from([1])));
  for (const y of req.ys) push(y, g.op('ConstantOfShape', [g.op('Shape', [y])], { value: one }));

  for (let k = active.length - 1; k >= 0; k--) {
    const n = active[k];
    const gy = n.outputs.map(total);
    if (gy.every((x) => x === undefined)) continue;
    const isDiff = differentiableInputs(n);
    const needs = n.inputs.map((x, i) => isDiff(i) && live.has(x) && needed.has(x));
    if (!needs.some(Boolean)) continue;
    let grads: (string | undefined)[];
    try {
      grads = VJP_RULES[opKey(n)](c, n, gy, needs);
    } catch (e) {
      throw new Error(`Differentiating ${n.opType} node "${n.name}": ${(e as Error).message}`);
    }
    n.inputs.forEach((x, i) => {
      if (needs[i] && grads[i]) push(x, c.sameShape(grads[i]!, x));
    });
  }
  const out = new Map<string, string>();
  for (const w of req.wrt) out.set(w, total(w) ?? c.zerosLike(w));
  g.invalidate();
  return out;
}
