/**
 * AtMan (Deiseroth et al. 2023): for each prompt token i, one forward pass with the attention to key i
 * suppressed in every layer and head — its pre-softmax scores, shifted by the row minimum, multiplied by
 * 1 − f (f = 0.9) — and score = drop of the target log-probability (= rise of its cross-entropy). Conceptual
 * suppression also suppresses tokens whose input embeddings have cosine ≥ κ with token i, by
 * (1 − s)(1 − cos) + s with s = 1 − f. Positions and length are kept, unlike deletion.
 * Suppressing key i changes nothing before position i, so a batch of neighbouring tokens shares the prefix
 * before its first suppressed token, computed once by the backend.
 */
import { EngineError } from '../engineProtocol';
import { throwIfAborted, type ScoreValue, type SuppressedItem } from '../modelRunner';
import { branchItems, rowScores } from '../targets';
import { effectiveTokenCap } from './batching';
import type { AttributionMethod, MethodContext, MethodOutput } from './method';
import { visibleTokens } from './occlusion';

export const DEFAULT_SUPPRESSION = 0.9;

/** Per-prompt-position factors for suppressing token i (conceptually when kappa is given). */
export function suppressionFactors(n: number, i: number, s: number, visible: number[], cosine?: (a: number, b: number) => number, kappa?: number): number[] {
  const f = Array<number>(n).fill(1);
  f[i] = s;
  if (cosine && kappa !== undefined) {
    for (const j of visible) {
      if (j === i) continue;
      const c = Math.min(1, cosine(i, j));
      if (c >= kappa) f[j] = (1 - s) * (1 - c) + s;
    }
  }
  return f;
}

function cosineOf(ctx: MethodContext): (a: number, b: number) => number {
  const { data, hidden } = ctx.runner.attention!.embed(ctx.prompt.map((t) => t.id));
  const norms = ctx.prompt.map((_, i) => Math.max(1e-8, Math.hypot(...data.subarray(i * hidden, (i + 1) * hidden))));
  return (a, b) => {
    let d = 0;
    for (let k = 0; k < hidden; k++) d += data[a * hidden + k] * data[b * hidden + k];
    return d / (norms[a] * norms[b]);
  };
}

/** Consecutive groups within the token cap, counting only tokens after each group's first modified key. */
function planSuppressedBatches(items: SuppressedItem[], cap: number, maxItems: number): SuppressedItem[][] {
  const firstTouched = (it: SuppressedItem) => { const k = it.keyFactors.findIndex((f) => f !== 1); return k < 0 ? it.inputIds.length : k; };
  const out: SuppressedItem[][] = [];
  let cur: SuppressedItem[] = [], prefix = Infinity, longest = 0;
  for (const it of items) {
    const p = Math.min(prefix, firstTouched(it)), len = Math.max(longest, it.inputIds.length);
    if (cur.length && ((cur.length + 1) * (len - p) > cap || cur.length >= maxItems)) {
      out.push(cur);
      cur = []; prefix = Infinity; longest = 0;
    }
    cur.push(it);
    prefix = Math.min(prefix, firstTouched(it));
    longest = Math.max(longest, it.inputIds.length);
  }
  if (cur.length) out.push(cur);
  return out;
}

export const atman: AttributionMethod = {
  name: 'atman',
  label: 'AtMan (attention suppression)',
  description: 'Suppresses the attention to each token in every layer (factor 1 − f, f = 0.9) and measures how much the target score drops. One forward pass per token, batched; positions are kept, unlike deletion.',
  needsGradients: false,
  needsAttention: true,
  async run(ctx): Promise<MethodOutput> {
    const f = ctx.params.suppression ?? DEFAULT_SUPPRESSION;
    const kappa = ctx.params.conceptual;
    if (!(f >= 0 && f <= 1)) throw new EngineError('bad-target', `The AtMan suppression must lie between 0 and 1 (got ${f}); 0.9 is the paper's value.`);
    if (kappa !== undefined && !(kappa > 0 && kappa <= 1)) throw new EngineError('bad-target', `The conceptual-suppression threshold κ must lie in (0, 1] (got ${kappa}); the paper uses 0.7.`);
    const backend = ctx.runner.attention!;
    const s = 1 - f;
    const ids = ctx.prompt.map((t) => t.id);
    const n = ids.length;
    const visible = visibleTokens(ctx);
    const cosine = kappa !== undefined ? cosineOf(ctx) : undefined;
    const perBranch = ctx.plan.branches.length;
    const items: SuppressedItem[] = visible.flatMap((i) => {
      const factors = suppressionFactors(n, i, s, visible, cosine, kappa);
      return branchItems(ctx.plan, ids).map((it) => ({ ...it, keyFactors: [...factors, ...Array<number>(it.inputIds.length - n).fill(1)] }));
    });
    const cap = effectiveTokenCap(ctx.maxTokensPerBatch, ctx.runner.info.vocabSize, false);
    const batches = planSuppressedBatches(items, cap, Math.max(8, Math.ceil(items.length / 8)));
    const values: ScoreValue[][] = [];
    for (const b of batches) {
      throwIfAborted(ctx.signal);
      values.push(...(await backend.scoreSuppressed(b, ctx.signal)));
      ctx.onProgress?.(values.length, items.length);
    }
    const full = ctx.plan.rows.map((r) => r.score);
    const scores = ctx.plan.rows.map(() => new Array<number>(n).fill(0));
    visible.forEach((i, k) => {
      const sup = rowScores(ctx.plan, values.slice(k * perBranch, (k + 1) * perBranch));
      sup.forEach((v, r) => (scores[r][i] = full[r] - v));
    });
    return {
      scores,
      batches: batches.length,
      params: { suppression: f, ...(kappa !== undefined ? { conceptual: kappa } : {}) },
      meaning: `drop in the target log-probability when attention to the token is suppressed in every layer (scores × ${Math.round(s * 1000) / 1000} after the row-minimum shift${kappa !== undefined ? `; similar tokens, cosine ≥ ${kappa}, suppressed too` : ''})`,
    };
  },
};
