/**
 * A scoring variant of a decoder: the hidden states of only the requested positions go through the
 * language-model head (the row-wise head rewrite of lmHeadRows.ts). Attribution needs the logits of one or a
 * few positions per sequence, yet the exported graph computes [batch, seq, vocab] — the head and the copy of
 * that tensor dominate small models.
 *
 * New input `logit_rows` int64 [batch, rows]; new output `row_logits` [batch, rows, vocab]; `logits` is
 * dropped, every other output (present.* keys and values) is kept.
 */
import { Graph, I } from './graph';
import { DataType } from './tensorData';
import type { ModelProto } from './onnxProto';
import { applyHead, findRowWiseHead } from './lmHeadRows';

export const LOGIT_ROWS_INPUT = 'logit_rows';
export const ROW_LOGITS_OUTPUT = 'row_logits';

/** The rewritten model, or undefined when the head is not a row-wise tail that can be found (or opset < 12). */
export function selectLogitRows(model: ModelProto, logits = 'logits'): ModelProto | undefined {
  const g = Graph.fromModelProto(model);
  const declared = g.outputs.find((o) => o.name === logits);
  // GatherND's batch_dims (the per-sequence row pick) needs opset 12; older graphs keep their full logits.
  if (!declared || g.opset < 12) return undefined;
  // Contrib-op exports defeat shape inference, so the hidden rank may be unknown here; a wrong guess fails when
  // the session is created, and the runner compares the variant with the full logits before using it.
  const head = findRowWiseHead(g, logits, { acceptUnknownRank: true });
  if (!head) return undefined;
  g.inputs.push({ name: LOGIT_ROWS_INPUT, elemType: DataType.INT64, dims: ['batch_size', 'logit_rows'] });
  const index = g.opset >= 13 ? g.op('Unsqueeze', [LOGIT_ROWS_INPUT, g.constI64([-1])]) : g.op('Unsqueeze', [LOGIT_ROWS_INPUT], { axes: { kind: 'ints', value: [-1] } });
  const picked = g.op('GatherND', [head.hidden, index], { batch_dims: I(1) });
  g.add('Identity', [applyHead(g, head, picked)], {}, { outputs: [ROW_LOGITS_OUTPUT] });
  g.outputs = [{ name: ROW_LOGITS_OUTPUT, elemType: declared.elemType, dims: ['batch_size', 'logit_rows', 'vocab'] }, ...g.outputs.filter((o) => o.name !== logits)];
  g.topoSortAndPrune();
  const proto = g.toModelProto();
  // Keep the original IR version: onnxruntime checks it against the opsets in use.
  proto.ir_version = model.ir_version ?? proto.ir_version;
  return proto;
}
