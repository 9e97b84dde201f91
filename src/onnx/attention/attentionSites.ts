/**
 * Finds the self-attention softmaxes of a graph with standard ops: a Softmax over the last axis whose input
 * comes from a MatMul of two 4-D tensors (Q·Kᵀ) through scaling and masking ops only, and whose output is
 * multiplied by the values. The "pre-mask" point is the scores after the MatMul and any scaling right after
 * it, before masks or biases are added: the place AtMan scales them.
 */
import { Graph, Node } from '../graph';
import { ShapeInfo } from '../shapeInference';

export interface AttentionSite {
  /** Order of the layer in the graph (0 = first). */
  layer: number;
  softmax: Node;
  /** The Q·Kᵀ MatMul. */
  scoresMatMul: Node;
  /** Value of the scaled scores before any mask (what AtMan manipulates). */
  preMask: string;
  /** The node that reads `preMask` on the way to the softmax (its input is replaced). */
  preMaskConsumer: Node;
  /** Heads, when static. */
  heads?: number;
}

/** Ops allowed between the scores MatMul and the softmax: scaling, masks, biases, casts. */
const PATH_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Where', 'Cast', 'Identity', 'Max', 'Min', 'Clip']);
const SCALE_OPS = new Set(['Mul', 'Div']);

function rank(g: Graph, info: ShapeInfo, v: string): number | undefined {
  return (g.constantDims(v) ?? info.shapes.get(v))?.length;
}

/** Path (MatMul first, then the ops up to the softmax input) or undefined. */
function pathToScores(g: Graph, info: ShapeInfo, v: string, depth: number): Node[] | undefined {
  const p = g.producerOf(v);
  if (!p || depth > 8) return undefined;
  if (p.opType === 'MatMul' && p.domain === '') {
    const [a, b] = p.inputs;
    if (g.constantValue(a) || g.constantValue(b)) return undefined;
    const ra = rank(g, info, a), rb = rank(g, info, b);
    return ra === 4 && rb === 4 ? [p] : undefined;
  }
  if (!PATH_OPS.has(p.opType) || p.domain !== '') return undefined;
  // Where(cond, x, y): the scores are x or y; the others: any non-constant input.
  const candidates = p.opType === 'Where' ? [p.inputs[1], p.inputs[2]] : p.inputs;
  for (const c of candidates) {
    if (!c || g.constantValue(c)) continue;
    const sub = pathToScores(g, info, c, depth + 1);
    if (sub) return [...sub, p];
  }
  return undefined;
}

/** The softmax output is multiplied by V (possibly through a cast or dropout). */
function feedsValues(n: Node, consumers: Map<string, Node[]>): boolean {
  let frontier = [n.outputs[0]];
  for (let d = 0; d < 3; d++) {
    const next: string[] = [];
    for (const v of frontier) {
      for (const c of consumers.get(v) ?? []) {
        if (c.opType === 'MatMul' && c.inputs[0] === v) return true;
        if (c.opType === 'Cast' || c.opType === 'Dropout' || c.opType === 'Identity') next.push(c.outputs[0]);
      }
    }
    frontier = next;
  }
  return false;
}

export function findAttentionSites(g: Graph, info: ShapeInfo): AttentionSite[] {
  const consumers = g.consumers();
  const sites: AttentionSite[] = [];
  for (const n of g.nodes) {
    if (n.opType !== 'Softmax' || n.domain !== '') continue;
    const r = info.shapes.get(n.inputs[0])?.length ?? 4;
    const axis = n.attrs.axis?.kind === 'int' ? n.attrs.axis.value : g.opset >= 13 ? -1 : 1;
    if (r !== 4 || (axis !== -1 && axis !== 3)) continue;
    const path = pathToScores(g, info, n.inputs[0], 0);
    if (!path || !feedsValues(n, consumers)) continue;
    // Scaling right after the MatMul (by a value that does not depend on the masks) belongs to the scores.
    let k = 0;
    while (k + 1 < path.length && SCALE_OPS.has(path[k + 1].opType) && path[k + 1].inputs[0] === path[k].outputs[0]) k++;
    const preMask = path[k].outputs[0];
    const preMaskConsumer = path[k + 1] ?? n;
    const hs = info.shapes.get(path[0].outputs[0])?.[1];
    sites.push({ layer: sites.length, softmax: n, scoresMatMul: path[0], preMask, preMaskConsumer, heads: typeof hs === 'number' ? hs : undefined });
  }
  return sites;
}
