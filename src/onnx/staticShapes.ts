/**
 * Constant shape operands where shape inference knows a shape by its dims, symbols included: a Reshape to
 * [batch, seq, 9, 64] of a [batch, seq, 576] tensor is a Reshape to [0, 0, 9, 64], and an Expand of
 * [batch, 3, 1, seq, 64] to [batch, 3, 3, seq, 64] one to [1, 1, 3, 1, 1]. The Shape → Gather → Unsqueeze → Concat
 * chains that exports compute such operands with (and the Shape nodes of the backward pass's reshapes) then never
 * run; every value stays what it was.
 */
import type { Graph } from './graph';
import { inferShapes, type Dim } from './shapeInference';
import { DataType } from './tensorData';

/**
 * A Reshape target that gives `target` from a tensor of dims `input`: numbers as they are, a symbol that `input` has at
 * the same index as 0 (copy that dim), one other symbol as -1; undefined when that does not pin it (two unknowns, a
 * size 0, which would read as "copy").
 */
export function reshapeTarget(target: Dim[], input: Dim[] | undefined): number[] | undefined {
  let free = 0;
  const out: number[] = [];
  for (let i = 0; i < target.length; i++) {
    const d = target[i];
    if (typeof d === 'number') {
      if (d <= 0) return undefined;
      out.push(d);
    } else if (d !== null && input && i < input.length && input[i] === d) out.push(0);
    else if (++free > 1) return undefined;
    else out.push(-1);
  }
  return out;
}

/** An Expand target that gives `target` from `input` (aligned at the right): 1 where `input` has the dim already. */
export function expandTarget(target: Dim[], input: Dim[] | undefined): number[] | undefined {
  if (!input || input.length > target.length) return undefined;
  const lead = target.length - input.length;
  const out: number[] = [];
  for (let i = 0; i < target.length; i++) {
    const d = target[i], x = i >= lead ? input[i - lead] : 1;
    if (d !== null && d === x) out.push(1);
    else if (typeof d === 'number' && d > 0 && x === 1) out.push(d);
    else return undefined;
  }
  return out;
}

/**
 * Gives Reshape and Expand nodes constant shape operands where their values are known, makes int values known as
 * numbers (a RoPE half computed from a shape) constants, and drops inputs of a Concat that are empty on its axis (the
 * empty KV cache that pastRemoval.ts puts in); returns how many nodes changed.
 */
export function constantShapeOperands(g: Graph): number {
  const info = inferShapes(g);
  let count = 0;
  const folded = new Map<string, string>();
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((i) => folded.get(i) ?? i);
    const o = n.outputs[0], v = info.values.get(o), shape = info.shapes.get(o), type = info.types.get(o);
    if (n.outputs.length === 1 && n.opType !== 'Constant' && v && v.every((d) => typeof d === 'number') && shape && shape.length <= 1 && (type === DataType.INT64 || type === DataType.INT32)) {
      if (shape.length === 1 && shape[0] !== v.length) continue;
      const dims = shape.length === 0 ? [] : [v.length];
      const data = v as number[];
      folded.set(o, type === DataType.INT64 ? g.constI64(data, dims) : g.constTensor('c_i32', DataType.INT32, dims, Int32Array.from(data)));
      count++;
      continue;
    }
    if (n.opType === 'Concat' && n.domain === '' && n.inputs.length > 1) {
      const r = info.shapes.get(n.inputs[0])?.length;
      const a = n.attrs.axis?.kind === 'int' ? n.attrs.axis.value : 0;
      const ax = r !== undefined && a < 0 ? a + r : a;
      const kept = n.inputs.filter((x) => info.shapes.get(x)?.[ax] !== 0);
      if (kept.length > 0 && kept.length < n.inputs.length) {
        n.inputs = kept;
        if (kept.length === 1) { n.opType = 'Identity'; n.attrs = {}; }
        count++;
      }
    }
  }
  for (const n of g.nodes) {
    if (n.domain !== '' || (n.opType !== 'Reshape' && n.opType !== 'Expand') || !n.inputs[1]) continue;
    if (g.constantValue(n.inputs[1])) continue;
    const v = info.values.get(n.inputs[1]);
    if (!v) continue;
    if (n.opType === 'Reshape' && n.attrs.allowzero?.kind === 'int' && n.attrs.allowzero.value) continue;
    const t = n.opType === 'Reshape' ? reshapeTarget(v, info.shapes.get(n.inputs[0])) : expandTarget(v, info.shapes.get(n.inputs[0]));
    if (!t) continue;
    n.inputs[1] = g.constI64(t);
    count++;
  }
  if (count) {
    g.invalidate();
    g.topoSortAndPrune();
  }
  return count;
}
