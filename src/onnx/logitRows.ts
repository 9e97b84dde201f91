/**
 * A scoring variant of a decoder: the hidden states of only the requested positions go through the
 * language-model head (the row-wise head rewrite of lmHeadRows.ts). Attribution needs the logits of one or a
 * few positions per sequence, yet the exported graph computes [batch, seq, vocab] — the head and the copy of
 * that tensor dominate small models.
 *
 * New input `logit_rows` int64 [batch, rows]; new output `row_logits` [batch, rows, vocab]; `logits` is
 * dropped, every other output (present.* keys and values) is kept.
 */
import { Graph, I, type ValueInfo } from './graph';
import { DataType } from './tensorData';
import type { ModelProto } from './onnxProto';
import { applyHead, findRowWiseHead, type RowWiseHead } from './lmHeadRows';
import { inferShapes } from './shapeInference';
import { unpackedTiedHead } from './tiedHeadGemm';
import { optionalPresents } from './optionalPresents';

export const LOGIT_ROWS_INPUT = 'logit_rows';
export const ROW_LOGITS_OUTPUT = 'row_logits';

/**
 * The rewritten model, or undefined when the head is not a row-wise tail that can be found (or opset < 12).
 * A tied head whose table has at least `unpackedHeadFromBytes` bytes reads the lookup's table unpacked
 * (tiedHeadGemm.ts; the forward runner asks for it, other callers keep the head as exported).
 */
export function selectLogitRows(model: ModelProto, logits = 'logits', opts: { unpackedHeadFromBytes?: number; optionalPresents?: boolean } = {}): ModelProto | undefined {
  const g = Graph.fromModelProto(model);
  const declared = g.outputs.find((o) => o.name === logits);
  // GatherND's batch_dims (the per-sequence row pick) needs opset 12; older graphs keep their full logits.
  if (!declared || g.opset < 12) return undefined;
  // Contrib-op exports defeat shape inference, so the hidden rank may be unknown here; a wrong guess fails when
  // the session is created, and the runner compares the variant with the full logits before using it.
  const head = findRowWiseHead(g, logits, { acceptUnknownRank: true });
  if (!head) return undefined;
  addRowLogits(g, head, declared);
  g.outputs = g.outputs.filter((o) => o.name !== logits);
  if (opts.unpackedHeadFromBytes !== undefined) unpackedTiedHead(g, g.producerOf(ROW_LOGITS_OUTPUT)!.inputs[0], opts.unpackedHeadFromBytes);
  if (!opts.optionalPresents) return finish(g, model);
  // Sorted first: optionalPresents places each If right after its producer, and no later sort may move it.
  g.topoSortAndPrune();
  optionalPresents(g);
  return finish(g, model, true);
}

/** The row pick and the head replayed on the picked rows, as output `row_logits` (first output). */
function addRowLogits(g: Graph, head: RowWiseHead, declared: ValueInfo): void {
  g.inputs.push({ name: LOGIT_ROWS_INPUT, elemType: DataType.INT64, dims: ['batch_size', 'logit_rows'] });
  const index = g.opset >= 13 ? g.op('Unsqueeze', [LOGIT_ROWS_INPUT, g.constI64([-1])]) : g.op('Unsqueeze', [LOGIT_ROWS_INPUT], { axes: { kind: 'ints', value: [-1] } });
  const picked = g.op('GatherND', [head.hidden, index], { batch_dims: I(1) });
  g.add('Identity', [applyHead(g, head, picked)], {}, { outputs: [ROW_LOGITS_OUTPUT] });
  g.outputs = [{ name: ROW_LOGITS_OUTPUT, elemType: declared.elemType, dims: ['batch_size', 'logit_rows', 'vocab'] }, ...g.outputs];
}

function finish(g: Graph, model: ModelProto, sorted = false): ModelProto {
  if (!sorted) g.topoSortAndPrune();
  const proto = g.toModelProto();
  // Keep the original IR version: onnxruntime checks it against the opsets in use.
  proto.ir_version = model.ir_version ?? proto.ir_version;
  return proto;
}

/** Nodes a head check graph may keep (the tail and its shape arithmetic); more means the cut kept part of the trunk. */
const CHECK_MAX_NODES = 64;

export interface HeadCheck {
  /** Graph with input `hidden` (+ `logit_rows`) and outputs `row_logits` (the rewrite) and `logits` (the original tail). */
  model: ModelProto;
  /** The hidden states fed in place of the trunk: [batch, seq, width], float32. */
  hidden: string;
  width: number;
  /** Other inputs the cut graph still reads (for the tail's shape arithmetic, e.g. input_ids). */
  inputs: string[];
}

/**
 * The head alone, original and rewritten side by side, for checking the logit-row variant without a session of the
 * whole model: selectLogitRows leaves every node before the head's input as it is, so the variant agrees with
 * the original graph exactly when its replayed head on picked rows agrees with the original tail on all rows, fed
 * the same hidden states. Undefined when the check needs the whole graph instead: the hidden states' rank or width
 * is unknown (then the variant's rank guess itself is what needs checking), they are not float32, or the tail
 * depends on more of the trunk than shape arithmetic.
 */
export function logitRowsHeadCheck(model: ModelProto, logits = 'logits'): HeadCheck | undefined {
  const g = Graph.fromModelProto(model);
  const declared = g.outputs.find((o) => o.name === logits);
  if (!declared || g.opset < 12) return undefined;
  const head = findRowWiseHead(g, logits);
  if (!head) return undefined;
  const info = inferShapes(g);
  const dims = info.shapes.get(head.hidden);
  const width = dims?.[dims.length - 1];
  const type = info.types.get(head.hidden);
  if (dims?.length !== 3 || typeof width !== 'number' || (type !== undefined && type !== DataType.FLOAT)) return undefined;
  addRowLogits(g, head, declared);
  g.outputs = g.outputs.filter((o) => o.name === ROW_LOGITS_OUTPUT || o.name === logits);
  // Cut the trunk off: the hidden states become an input.
  g.nodes = g.nodes.filter((n) => !n.outputs.includes(head.hidden));
  g.invalidate();
  g.topoSortAndPrune();
  if (g.nodes.length > CHECK_MAX_NODES) return undefined;
  const read = new Set(g.nodes.flatMap((n) => n.inputs));
  g.inputs = [{ name: head.hidden, elemType: DataType.FLOAT, dims: [1, 'seq', width] }, ...g.inputs.filter((i) => read.has(i.name) && i.name !== head.hidden)];
  const proto = g.toModelProto();
  proto.ir_version = model.ir_version ?? proto.ir_version;
  return { model: proto, hidden: head.hidden, width, inputs: g.inputs.slice(1).map((i) => i.name) };
}
