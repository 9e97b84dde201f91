/**
 * A scoring variant of a decoder: the hidden states of only the requested positions go through the
 * language-model head. Attribution needs the logits of one or a few positions per sequence, yet the
 * exported graph computes [batch, seq, vocab] — the head and the copy of that tensor dominate small models.
 *
 * New input `logit_rows` int64 [batch, rows]; new output `row_logits` [batch, rows, vocab]; `logits` is
 * dropped, every other output (present.* keys and values) is kept.
 */
import { Graph, I } from './graph';
import { DataType } from './tensorData';
import type { ModelProto } from './onnxProto';

export const LOGIT_ROWS_INPUT = 'logit_rows';
export const ROW_LOGITS_OUTPUT = 'row_logits';

/** Ops between the head's MatMul and `logits` that act on the vocabulary axis alone (bias, scaling). */
const ELEMENTWISE = new Set(['Add', 'Mul', 'Div', 'Sub']);
const PASS_THROUGH = new Set(['Reshape', 'Identity', 'Cast']);

/** The rewritten model, or undefined when the head is not a MatMul by a constant that can be found. */
export function selectLogitRows(model: ModelProto, logits = 'logits'): ModelProto | undefined {
  const g = Graph.fromModelProto(model);
  if (!g.outputs.some((o) => o.name === logits)) return undefined;
  // Walk back from the logits to the head MatMul, remembering bias/scale ops to replay after it.
  const post: { opType: string; constant: string; constFirst: boolean }[] = [];
  let cur = logits;
  let head;
  for (let guard = 0; guard < 16 && !head; guard++) {
    const n = g.producerOf(cur);
    if (!n) return undefined;
    if (n.opType === 'MatMul' && isConstantExpr(g, n.inputs[1])) head = n;
    else if (PASS_THROUGH.has(n.opType)) cur = n.inputs[0];
    else if (ELEMENTWISE.has(n.opType) && n.inputs.length === 2) {
      const c = n.inputs.findIndex((i) => isConstantExpr(g, i));
      if (c < 0) return undefined;
      post.unshift({ opType: n.opType, constant: n.inputs[c], constFirst: c === 0 });
      cur = n.inputs[1 - c];
    } else return undefined;
  }
  if (!head) return undefined;
  // The hidden states before any flattening Reshape: [batch, seq, hidden].
  let hidden = head.inputs[0];
  for (let p = g.producerOf(hidden); p && PASS_THROUGH.has(p.opType) && p.opType !== 'Cast'; p = g.producerOf(hidden)) hidden = p.inputs[0];

  g.inputs.push({ name: LOGIT_ROWS_INPUT, elemType: DataType.INT64, dims: ['batch_size', 'logit_rows'] });
  const index = g.opset >= 13 ? g.op('Unsqueeze', [LOGIT_ROWS_INPUT, g.constI64([-1])]) : g.op('Unsqueeze', [LOGIT_ROWS_INPUT], { axes: { kind: 'ints', value: [-1] } });
  const picked = g.op('GatherND', [hidden, index], { batch_dims: I(1) });
  let out = g.op('MatMul', [picked, head.inputs[1]]);
  for (const p of post) out = g.op(p.opType, p.constFirst ? [p.constant, out] : [out, p.constant]);
  g.add('Identity', [out], {}, { outputs: [ROW_LOGITS_OUTPUT] });
  const elemType = g.outputs.find((o) => o.name === logits)!.elemType;
  g.outputs = [{ name: ROW_LOGITS_OUTPUT, elemType, dims: ['batch_size', 'logit_rows', 'vocab'] }, ...g.outputs.filter((o) => o.name !== logits)];
  g.topoSortAndPrune();
  const proto = g.toModelProto();
  // Keep the original IR version: onnxruntime checks it against the opsets in use.
  proto.ir_version = model.ir_version ?? proto.ir_version;
  return proto;
}

/** True for initializers, Constant outputs, and ops computed from those alone (a transposed tied embedding). */
function isConstantExpr(g: Graph, name: string, depth = 0): boolean {
  if (g.constantValue(name)) return true;
  if (depth > 4 || g.inputs.some((i) => i.name === name)) return false;
  const p = g.producerOf(name);
  return !!p && p.inputs.length > 0 && p.inputs.every((i) => !i || isConstantExpr(g, i, depth + 1));
}
