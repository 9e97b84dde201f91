/**
 * Attention rollout (Abnar & Zuidema 2020): per layer Â = ½·mean over heads of A + ½·I (the residual stream),
 * rows renormalised; rollout = Â_L ⋯ Â_1, read at the position predicting each target token.
 */
import type { AttentionMaps } from '../modelRunner';
import { at, attentionDetail, readAttention } from './attentionReading';
import type { AttributionMethod, MethodOutput } from './method';

/** Row-major [S, S] rollout matrix of one sequence. */
export function rollout(m: AttentionMaps): Float64Array {
  const S = m.seq;
  let acc: Float64Array | undefined;
  for (let l = 0; l < m.layers; l++) {
    const a = new Float64Array(S * S);
    for (let q = 0; q < S; q++) {
      let sum = 0;
      for (let k = 0; k < S; k++) {
        let v = 0;
        for (let h = 0; h < m.heads; h++) v += at(m, l, h, q, k);
        v = 0.5 * (v / m.heads) + (q === k ? 0.5 : 0);
        a[q * S + k] = v;
        sum += v;
      }
      for (let k = 0; k < S; k++) a[q * S + k] /= sum;
    }
    if (!acc) { acc = a; continue; }
    // acc ← Â_l · acc (later layers multiply from the left)
    const next = new Float64Array(S * S);
    for (let q = 0; q < S; q++) for (let j = 0; j < S; j++) {
      const v = a[q * S + j];
      if (v === 0) continue;
      for (let k = 0; k < S; k++) next[q * S + k] += v * acc[j * S + k];
    }
    acc = next;
  }
  return acc ?? new Float64Array(S * S);
}

export const attentionRollout: AttributionMethod = {
  name: 'attention-rollout',
  label: 'Attention rollout',
  description: 'Attention multiplied through the layers, with the residual stream as half of every layer. One forward pass; a smoother picture of where information flows than one layer\'s weights.',
  needsGradients: false,
  needsAttention: true,
  async run(ctx): Promise<MethodOutput> {
    const { maps, rows } = await readAttention(ctx);
    const rolled = new Map([...maps].map(([b, m]) => [b, rollout(m)]));
    const n = ctx.prompt.length;
    const scores = rows.map((r) => {
      const R = rolled.get(r.branch)!, S = maps.get(r.branch)!.seq;
      return Array.from({ length: n }, (_, j) => R[r.position * S + j]);
    });
    return {
      scores,
      batches: maps.size,
      params: {},
      meaning: 'share of the predicting position\'s representation that flows from the token through all layers (attention rollout; rows sum to 1 over all positions)',
      attention: attentionDetail(ctx, maps, rows),
    };
  },
};
