/**
 * The one rewrite that applies an LM head to selected rows only. Scores need the logits of a few target rows,
 * not of every position; when the head is a row-wise tail — MatMul by a constant matrix, an elementwise
 * Add/Sub/Mul/Div by a constant that varies along the vocabulary axis alone (bias, temperature), Cast or
 * Identity, and Reshapes that keep the last axis (flattening [B, S, H] to [B·S, H] and back) — the rows of the
 * hidden states are selected first and the tail is replayed on [B, T, H] instead of [B, S, H]. "Constant"
 * includes values computed from constants only, such as a tied head stored as Transpose(word embeddings).
 * Forward and backward of the head then cost T/S as much (the head is usually the largest matrix of a small
 * model). Two callers choose the rows their own way: the forward scoring variant (logitRows.ts) by GatherND
 * of a `logit_rows` input, the gradient score (targetScore.ts) by a differentiable one-hot MatMul.
 */
import { Graph, Node } from './graph';
import { inferShapes, Shape } from './shapeInference';

/** True if `name` is an initializer or computed by default-domain nodes that read only constants. */
function isConstantExpr(g: Graph, name: string, seen = new Set<string>()): boolean {
  if (g.constantValue(name) !== undefined) return true;
  if (seen.has(name)) return false;
  seen.add(name);
  const p = g.producerOf(name);
  if (!p || p.domain !== '' || p.inputs.length === 0) return false;
  return p.inputs.every((x) => !x || isConstantExpr(g, x, seen));
}

const lastDim = (s: Shape | undefined): number | undefined => (s && typeof s[s.length - 1] === 'number' ? (s[s.length - 1] as number) : undefined);

/** One node of the tail and which of its inputs carries the rows (the others are constants). */
interface TailStep {
  node: Node;
  rowInput: number;
}

export interface RowWiseHead {
  /** The hidden states the tail starts from: [batch, seq, hidden]. */
  hidden: string;
  /** The tail from `hidden` to the logits, in order. */
  steps: TailStep[];
}

const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div']);

/**
 * The row-wise tail that ends in `logits`, or undefined when there is none with a MatMul in it (the caller then
 * selects rows of the full logits). Intermediate values read by anything else would still need every row, so
 * such graphs are left alone; Shape readers do not count (exports compute the flattening Reshape's target
 * shape from them, and they go when the original tail is pruned). Hidden states must be [batch, seq, hidden];
 * `acceptUnknownRank` lets a caller that checks the rewritten model numerically (the forward variant) proceed
 * when shape inference cannot tell (contrib-op exports).
 */
export function findRowWiseHead(g: Graph, logits: string, opts: { acceptUnknownRank?: boolean } = {}): RowWiseHead | undefined {
  const info = inferShapes(g);
  const dims = (x: string): Shape | undefined => g.constantDims(x) ?? info.shapes.get(x);
  const steps: TailStep[] = [];
  let v = logits;
  for (;;) {
    const n = g.producerOf(v);
    if (!n || n.domain !== '') break;
    let rowInput = -1;
    if (n.opType === 'MatMul') {
      const rank = dims(n.inputs[1])?.length;
      if (isConstantExpr(g, n.inputs[1]) && rank === 2) rowInput = 0;
    } else if (ELEMENTWISE.has(n.opType) && n.inputs.length === 2) {
      // The constant may stand on either side (Mul(scale, x)); it may vary along the last axis only.
      const c = isConstantExpr(g, n.inputs[1]) ? 1 : isConstantExpr(g, n.inputs[0]) ? 0 : -1;
      const d = c >= 0 ? dims(n.inputs[c]) : undefined;
      if (d && d.slice(0, -1).every((x) => x === 1)) rowInput = 1 - c;
    } else if (n.opType === 'Cast' || n.opType === 'Identity') rowInput = 0;
    else if (n.opType === 'Reshape') {
      const a = lastDim(info.shapes.get(n.inputs[0])), b = lastDim(info.shapes.get(n.outputs[0]));
      if (a !== undefined && a === b) rowInput = 0;
    }
    if (rowInput < 0) break;
    steps.unshift({ node: n, rowInput });
    v = n.inputs[rowInput];
  }
  const rank = info.shapes.get(v)?.length;
  if (!steps.some((s) => s.node.opType === 'MatMul') || (rank === undefined ? !opts.acceptUnknownRank : rank !== 3)) return undefined;
  const consumers = g.consumers();
  const outputs = new Set(g.outputs.map((o) => o.name));
  for (const s of steps.slice(0, -1)) {
    const out = s.node.outputs[0];
    if (outputs.has(out) || (consumers.get(out) ?? []).filter((c) => c.opType !== 'Shape').length > 1) return undefined;
  }
  return { hidden: v, steps };
}

/** Replays the tail on selected rows [batch, T, hidden] and returns [batch, T, vocab] (Reshapes are skipped). */
export function applyHead(g: Graph, head: RowWiseHead, rows: string): string {
  let x = rows;
  for (const { node, rowInput } of head.steps) {
    if (node.opType === 'Reshape') continue;
    x = g.op(node.opType, node.inputs.map((inp, i) => (i === rowInput ? x : inp)), node.attrs);
  }
  return x;
}

/**
 * Returns [B, T, V] logits of the rows picked by `select` (hidden [B, S, H] → [B, T, H]), or undefined when the
 * head is not a recognised row-wise tail.
 */
export function headOnSelectedRows(g: Graph, logits: string, select: (hidden: string) => string): string | undefined {
  const head = findRowWiseHead(g, logits);
  return head && applyHead(g, head, select(head.hidden));
}
