/**
 * Re-fuses LayerNorm that exporters wrote out as ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add into one
 * LayerNormalization node before differentiation. The backward pass then uses the compact LayerNorm rule
 * (a dozen nodes) instead of differentiating nine ops with broadcasts, and the forward runs the fused kernel.
 * Only exact matches are rewritten: normalisation over the last axis, constant epsilon/scale/bias, and no
 * other reader of any intermediate value.
 */
import { F, Graph, I, Node } from './graph';

function reducesLastAxis(g: Graph, n: Node): boolean {
  if (n.opType !== 'ReduceMean' || n.domain !== '') return false;
  if (n.attrs.keepdims?.kind === 'int' && n.attrs.keepdims.value === 0) return false;
  const axes = n.attrs.axes?.kind === 'ints' ? n.attrs.axes.value : n.inputs[1] ? g.constantNumbers(n.inputs[1]) : undefined;
  return axes?.length === 1 && axes[0] === -1;
}

export function fuseLayerNorms(g: Graph): number {
  const consumers = g.consumers();
  const only = (v: string): Node | undefined => {
    const c = consumers.get(v);
    return c?.length === 1 && !g.outputs.some((o) => o.name === v) ? c[0] : undefined;
  };
  const other = (n: Node, v: string): string => (n.inputs[0] === v ? n.inputs[1] : n.inputs[0]);
  const scalar = (v: string): number | undefined => {
    const x = g.constantNumbers(v);
    return x?.length === 1 ? x[0] : undefined;
  };
  const remove = new Set<Node>();
  const replace = new Map<Node, Node>();
  let count = 0;
  for (const mean of g.nodes) {
    if (!reducesLastAxis(g, mean)) continue;
    const x = mean.inputs[0];
    const sub = only(mean.outputs[0]);
    if (sub?.opType !== 'Sub' || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) continue;
    const dUsers = consumers.get(sub.outputs[0]) ?? [];
    const sq = dUsers.find((n) => (n.opType === 'Pow' && n.inputs[0] === sub.outputs[0] && scalar(n.inputs[1]) === 2) || (n.opType === 'Mul' && n.inputs[0] === sub.outputs[0] && n.inputs[1] === sub.outputs[0]));
    const div = dUsers.find((n) => n.opType === 'Div' && n.inputs[0] === sub.outputs[0]);
    if (!sq || !div || dUsers.length !== 2 || g.outputs.some((o) => o.name === sub.outputs[0])) continue;
    const varMean = only(sq.outputs[0]);
    if (!varMean || !reducesLastAxis(g, varMean) || varMean.inputs[0] !== sq.outputs[0]) continue;
    const addEps = only(varMean.outputs[0]);
    if (addEps?.opType !== 'Add') continue;
    const eps = scalar(other(addEps, varMean.outputs[0]));
    const sqrt = only(addEps.outputs[0]);
    if (eps === undefined || sqrt?.opType !== 'Sqrt' || div.inputs[1] !== sqrt.outputs[0] || only(sqrt.outputs[0]) !== div) continue;
    const mul = only(div.outputs[0]);
    if (mul?.opType !== 'Mul') continue;
    const gamma = other(mul, div.outputs[0]);
    const add = only(mul.outputs[0]);
    const beta = add?.opType === 'Add' ? other(add, mul.outputs[0]) : undefined;
    const gd = g.constantDims(gamma), bd = beta ? g.constantDims(beta) : undefined;
    if (!gd || gd.length !== 1 || (beta && (!bd || bd.length !== 1))) continue;
    const last = beta ? add! : mul;
    const fused: Node = {
      opType: 'LayerNormalization', domain: '', inputs: beta ? [x, gamma, beta] : [x, gamma], outputs: [last.outputs[0]],
      attrs: { axis: I(-1), epsilon: F(eps), stash_type: I(1) }, name: `${mean.name}_fused_layernorm`,
    };
    for (const n of [mean, sub, sq, varMean, addEps, sqrt, div, mul, ...(beta ? [add!] : [])]) remove.add(n);
    replace.set(last, fused);
    count++;
  }
  if (count) {
    g.nodes = g.nodes.flatMap((n) => (replace.has(n) ? [replace.get(n)!] : remove.has(n) ? [] : [n]));
    g.invalidate();
  }
  return count;
}
