/**
 * Shared by the attention methods: which sequence each target row is read from (the prompt plus its branch's
 * continuation), which query position predicts the row's token, and the detail the attention view shows.
 */
import { EngineError } from '../engineProtocol';
import type { AttentionMaps } from '../modelRunner';
import type { AttentionDetail } from '../result';
import type { MethodContext } from './method';

export interface RowQuery {
  branch: number;
  /** Position whose attention row is read: the one that predicts the row's (first) token. */
  position: number;
}

/** One attention pass per branch the rows use; rows read their first positive term's position. */
export async function readAttention(ctx: MethodContext): Promise<{ maps: Map<number, AttentionMaps>; rows: RowQuery[] }> {
  const backend = ctx.runner.attention;
  if (!backend) throw new EngineError('attention-unsupported', 'Attention is not available for this model.');
  const n = ctx.prompt.length;
  const rows: RowQuery[] = ctx.plan.rows.map((_, r) => {
    for (const [b, br] of ctx.plan.branches.entries()) {
      const t = br.terms.find((x) => x.row === r && x.weight > 0) ?? br.terms.find((x) => x.row === r);
      if (t) return { branch: b, position: n - 1 + t.offset };
    }
    return { branch: 0, position: n - 1 };
  });
  const maps = new Map<number, AttentionMaps>();
  const ids = ctx.prompt.map((t) => t.id);
  const used = [...new Set(rows.map((r) => r.branch))];
  for (const [k, b] of used.entries()) {
    maps.set(b, await backend.attention({ inputIds: [...ids, ...ctx.plan.branches[b].continuation] }, ctx.signal));
    ctx.onProgress?.(k + 1, used.length);
  }
  return { maps, rows };
}

/** probs[layer][head·S·S + query·S + key]. */
export function at(m: AttentionMaps, layer: number, head: number, query: number, key: number): number {
  return m.probs[layer][(head * m.seq + query) * m.seq + key];
}

/** The view's copy of the first branch's maps (rounded: 4 decimals are what a colour shows). */
export function attentionDetail(ctx: MethodContext, maps: Map<number, AttentionMaps>, rows: RowQuery[]): AttentionDetail {
  const b = rows[0]?.branch ?? 0;
  const m = maps.get(b)!;
  const n = ctx.prompt.length;
  const cont = ctx.plan.branches[b].continuation;
  const continuation = cont.map((id, k) => (ctx.plan.rows[k]?.tokenId === id ? ctx.plan.rows[k].text : `#${id}`));
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  const probs = Array.from({ length: m.layers }, (_, l) => Array.from({ length: m.heads }, (_, h) => Array.from({ length: m.seq }, (_, q) => Array.from({ length: m.seq }, (_, k) => round(at(m, l, h, q, k))))));
  return { continuation, promptLength: n, layers: m.layers, heads: m.heads, probs, rowQueries: rows.map((r) => (r.branch === b ? r.position : -1)) };
}
