/**
 * Appends the scalar (per batch item) that gradients are taken of:
 *   causal LM:   score[b] = Σ_t w[b,t] · logsoftmax(logits[b, pos[b,t], :])[id[b,t]]
 *   classifier:  score[b] = Σ_t w[b,t] · logits[b, id[b,t]]   (or its log-softmax with classScore 'log-prob')
 * Row and id selection use one-hot matmuls/products, so the differentiator needs no scatter rule here and
 * repeated positions (contrastive targets) just add up. Rows are selected before the LM head when it is
 * row-wise (lmHeadRows.ts), so only T rows of logits are computed.
 * With `topTokenTargets` (causal LMs), an id below 0 stands for the row's own top token (ArgMax of its logits, the
 * first one on a tie), and TARGET_IDS_USED holds the ids scored: one run answers a forward question (what is the
 * next token) and already has the gradient of that token's log-probability.
 */
import { Graph, I } from './graph';
import { DataType } from './tensorData';
import { headOnSelectedRows } from './lmHeadRows';

export const TARGET_IDS = 'target_ids';
export const TARGET_POSITIONS = 'target_positions';
export const TARGET_WEIGHTS = 'target_weights';
export const SCORE = 'score';
/** Causal LM: the logits rows at the target positions, [batch, targets, vocab] (computed for the score anyway). */
export const TARGET_LOGITS = 'target_logits';
/** The target ids scored, [batch, targets] int64: TARGET_IDS with each id below 0 replaced by its row's top token. */
export const TARGET_IDS_USED = 'target_ids_used';

export type TargetKind = 'causal-lm' | 'sequence-classifier';

function oneHot(g: Graph, idx: string, depthOf: string, axisOfDepth: number): string {
  const depth = g.op('Gather', [g.op('Shape', [depthOf]), g.constTensor('c_i64', DataType.INT64, [], BigInt64Array.from([BigInt(axisOfDepth)]))]);
  const iota = g.op('Range', [g.constTensor('c_i64', DataType.INT64, [], BigInt64Array.from([0n])), depth, g.constTensor('c_i64', DataType.INT64, [], BigInt64Array.from([1n]))]);
  const eq = g.op('Equal', [g.op('Unsqueeze', [idx, g.constI64([-1])]), iota]);
  return g.op('Cast', [eq], { to: I(DataType.FLOAT) });
}

export function appendTargetScore(g: Graph, logits: string, kind: TargetKind, classScore: 'logit' | 'log-prob' = 'logit', topTokenTargets = false): string {
  g.inputs.push(
    { name: TARGET_IDS, elemType: DataType.INT64, dims: ['batch', 'targets'] },
    { name: TARGET_POSITIONS, elemType: DataType.INT64, dims: ['batch', 'targets'] },
    { name: TARGET_WEIGHTS, elemType: DataType.FLOAT, dims: ['batch', 'targets'] },
  );
  let rows: string; // [b, T, V]
  let ids: string = TARGET_IDS;
  if (kind === 'causal-lm') {
    // [b, T, S] one-hot rows; S is read from the hidden states so the full logits are never needed.
    const pick = (x: string): string => g.op('MatMul', [oneHot(g, TARGET_POSITIONS, x, 1), x]);
    const picked = headOnSelectedRows(g, logits, pick) ?? pick(logits);
    // Pruned away unless a caller makes it an output (the gradient graph does, to answer forward passes).
    g.add('Identity', [picked], {}, { outputs: [TARGET_LOGITS] });
    rows = g.op('LogSoftmax', [picked], { axis: I(-1) });
    if (topTokenTargets) {
      // Integer path: no gradient flows through the choice of token.
      const top = g.op('ArgMax', [picked], { axis: I(-1), keepdims: I(0) });
      const zero = g.constTensor('c_i64', DataType.INT64, [], BigInt64Array.from([0n]));
      ids = g.op('Where', [g.op('Less', [TARGET_IDS, zero]), top, TARGET_IDS]);
      g.add('Identity', [ids], {}, { outputs: [TARGET_IDS_USED] });
    }
  } else {
    const l = classScore === 'log-prob' ? g.op('LogSoftmax', [logits], { axis: I(-1) }) : logits;
    rows = g.op('Unsqueeze', [l, g.constI64([1])]); // [b, 1, C] broadcasts over T
  }
  const picked = g.op('ReduceSum', [g.op('Mul', [rows, oneHot(g, ids, rows, 2)]), g.constI64([-1])], { keepdims: I(0) });
  g.add('ReduceSum', [g.op('Mul', [picked, TARGET_WEIGHTS]), g.constI64([1])], { keepdims: I(0) }, { outputs: [SCORE] });
  return SCORE;
}
