/**
 * Moves a default-domain graph to opset ≥ 17 so that gradient rules can use ReduceSum/Unsqueeze/Split with
 * axes as inputs (dynamic shapes) and ScatterND with reduction="add". Only ops whose semantics changed between
 * the model's opset and 17 are rewritten; ops whose change was a type extension need nothing.
 */
import { Graph, I, Node } from './graph';

export const MIN_GRADIENT_OPSET = 17;

export function upgradeOpset(g: Graph): void {
  const from = g.opset;
  if (from >= MIN_GRADIENT_OPSET) return;
  const out: Node[] = [];
  const orig = g.nodes;
  g.nodes = out; // g.op() below appends straight into `out`, keeping order
  for (const n of orig) {
    if (n.domain !== '') { out.push(n); continue; }
    const axesAttr = n.attrs.axes?.kind === 'ints' ? (n.attrs.axes.value as number[]) : undefined;
    if (from < 13 && (n.opType === 'Squeeze' || n.opType === 'Unsqueeze' || n.opType === 'ReduceSum') && axesAttr) {
      const { axes: _drop, ...rest } = n.attrs;
      out.push({ ...n, inputs: [n.inputs[0], g.constI64(axesAttr)], attrs: rest });
      continue;
    }
    if (from < 13 && n.opType === 'Split' && n.attrs.split?.kind === 'ints') {
      const { split, ...rest } = n.attrs;
      out.push({ ...n, inputs: [n.inputs[0], g.constI64(split.value as number[])], attrs: rest });
      continue;
    }
    if (from < 13 && (n.opType === 'Softmax' || n.opType === 'LogSoftmax' || n.opType === 'Hardmax')) {
      // Old semantics: flatten to 2-D at `axis` (default 1), normalise rows. Same as new semantics iff axis is last.
      const axis = n.attrs.axis?.kind === 'int' ? (n.attrs.axis.value as number) : 1;
      if (axis === -1) { out.push(n); continue; }
      const flat = g.op('Flatten', [n.inputs[0]], { axis: I(axis) });
      const sm = g.op(n.opType, [flat], { axis: I(-1) });
      const shape = g.op('Shape', [n.inputs[0]]);
      g.add('Reshape', [sm, shape], {}, { outputs: [n.outputs[0]] });
      continue;
    }
    out.push(n);
  }
  g.nodes = out;
  g.opsets.set('', MIN_GRADIENT_OPSET);
  g.opsets.delete('ai.onnx');
  g.invalidate();
}
