/**
 * A causal-LM score needs the logits of a few target rows, not of every position. When the LM head is a
 * row-wise tail — MatMul by a constant matrix, constant bias Add, scalar Mul/Div, Cast/Identity, and Reshapes
 * that only merge or split leading axes — the target rows of the hidden states are selected first and the
 * tail is applied to [B, T, H] instead of [B, S, H]. "Constant" includes values computed from constants only,
 * such as a tied head stored as Transpose(word embeddings). Forward and backward of the head then cost T/S as much
 * (the head is usually the largest matrix in a small model).
 */
import { Graph, Node } from './graph';
import { inferShapes, Shape } from './shapeInference';

/** True if `name` is an initializer or computed by nodes that read only constants (no graph input). */
function isConstantExpr(g: Graph, name: string, seen = new Set<string>()): boolean {
  if (g.constantValue(name) !== undefined) return true;
  if (seen.has(name)) return false;
  seen.add(name);
  const p = g.producerOf(name);
  if (!p || p.domain !== '' || p.inputs.length === 0) return false;
  return p.inputs.every((x) => !x || isConstantExpr(g, x, seen));
}

const lastDim = (s: Shape | undefined): number | undefined => (s && typeof s[s.length - 1] === 'number' ? (s[s.length - 1] as number) : undefined);

/**
 * Returns [B, T, V] logits of the rows picked by `select` ([B, T, S] one-hot), or undefined when the head
 * is not a recognised row-wise tail (the caller then selects rows of the full logits).
 */
export function headOnSelectedRows(g: Graph, logits: string, select: (hidden: string) => string): string | undefined {
  const info = inferShapes(g);
  const chain: Node[] = [];
  let v = logits;
  for (;;) {
    const n = g.producerOf(v);
    if (!n || n.domain !== '') return undefined;
    const others = n.inputs.filter((x, i) => i !== 0 && x);
    const constOthers = others.every((x) => isConstantExpr(g, x));
    const rank = (x: string): number | undefined => (g.constantDims(x) ?? info.shapes.get(x))?.length;
    let rowWise = false;
    if (n.opType === 'MatMul') rowWise = constOthers && rank(n.inputs[1]) === 2;
    else if (n.opType === 'Add' || n.opType === 'Mul' || n.opType === 'Div' || n.opType === 'Sub') {
      // A constant that only varies along the last axis (bias, scalar temperature).
      const d = g.constantDims(n.inputs[1]);
      rowWise = constOthers && d !== undefined && d.slice(0, -1).every((x) => x === 1);
    } else if (n.opType === 'Cast' || n.opType === 'Identity') rowWise = true;
    else if (n.opType === 'Reshape') {
      const a = lastDim(info.shapes.get(n.inputs[0])), b = lastDim(info.shapes.get(n.outputs[0]));
      rowWise = a !== undefined && a === b;
    }
    if (!rowWise) break;
    chain.unshift(n);
    v = n.inputs[0];
  }
  const hs = info.shapes.get(v);
  if (!chain.some((n) => n.opType === 'MatMul') || hs?.length !== 3) return undefined;
  // Other consumers of intermediate chain values would still need every row: leave those graphs alone.
  const consumers = g.consumers();
  for (const n of chain.slice(0, -1)) if ((consumers.get(n.outputs[0])?.length ?? 0) > 1) return undefined;
  let x = select(v); // [B, T, H]
  for (const n of chain) {
    if (n.opType === 'Reshape') continue;
    x = g.op(n.opType, [x, ...n.inputs.slice(1)], n.attrs);
  }
  return x;
}
