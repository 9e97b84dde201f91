/**
 * For the forward scoring variant of a model with a large tied LM head, MatMul(rows, Transpose(table)) where the
 * table is also the token-embedding lookup. onnxruntime folds that Transpose into a transposed copy of the table
 * while the session loads and then prepacks it for the MatMul: the load holds the table, its transposed copy and
 * the packed copy at once, which sets the peak of a short forward-only call. The head here computes a few rows
 * per run, for which packing buys nothing. So it becomes Gemm(Reshape(rows, [-1, hidden]), table, transB=1),
 * reshaped back, and the table is declared a graph input with its initializer as default value: onnxruntime
 * neither folds nor prepacks a value that a caller could override, and the Gemm reads the table the lookup reads.
 * Once the head has run, the table's pages are resident in place of the packed copy, so the steady state stays
 * about the same; the load's peak loses the copies and the load the time to make them. Small tables keep the
 * packed head (a small model's pass is dominated by its kernels' count).
 */
import { Graph, I } from './graph';
import { DataType } from './tensorData';

/** Tables from this many bytes get the unpacked head in the forward runner. */
export const UNPACKED_HEAD_FROM_BYTES = 32 * 2 ** 20;

/** Rewrites in place the head MatMul that produces `logits` ([B, T, V] from rows [B, T, H]); true if it did. */
export function unpackedTiedHead(g: Graph, logits: string, minBytes = UNPACKED_HEAD_FROM_BYTES): boolean {
  const mm = g.producerOf(logits);
  if (mm?.opType !== 'MatMul' || mm.domain !== '') return false;
  const tr = g.producerOf(mm.inputs[1]);
  if (tr?.opType !== 'Transpose' || tr.domain !== '') return false;
  const perm = tr.attrs.perm;
  if (perm && !(perm.kind === 'ints' && perm.value.length === 2 && perm.value[0] === 1 && perm.value[1] === 0)) return false;
  const table = tr.inputs[0];
  const t = g.initializers.get(table);
  const dims = t ? g.constantDims(table) : undefined;
  if (!t || !dims || dims.length !== 2 || t.data_type !== DataType.FLOAT || g.inputs.some((i) => i.name === table)) return false;
  if (dims[0] * dims[1] * 4 < minBytes) return false;
  // Only a tied table: an untied head's own weight would gain nothing from staying unfolded.
  if (!(g.consumers().get(table) ?? []).some((n) => n.opType === 'Gather' && n.domain === '' && n.inputs[0] === table)) return false;
  const [vocab, hidden] = dims;
  const rows = mm.inputs[0];
  const flat = g.op('Reshape', [rows, g.constI64([-1, hidden])]);
  const product = g.op('Gemm', [flat, table], { transB: I(1) });
  const lead = g.op('Slice', [g.op('Shape', [rows]), g.constI64([0]), g.constI64([-1])]);
  const shape = g.op('Concat', [lead, g.constI64([vocab])], { axis: I(0) });
  mm.opType = 'Reshape';
  mm.inputs = [product, shape];
  mm.attrs = {};
  g.inputs.push({ name: table, elemType: DataType.FLOAT, dims: [...dims] });
  g.invalidate();
  return true;
}
