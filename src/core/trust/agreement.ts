/** Agreement between two attributions of the same tokens: rank correlation and overlap of their top tokens. */
import { rankByScore } from './ranking';

/** Ranks 1..n with ties sharing their mean rank (the usual Spearman convention). */
export function averageRanks(values: readonly number[]): number[] {
  const idx = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  for (let s = 0; s < idx.length; ) {
    let e = s;
    while (e + 1 < idx.length && values[idx[e + 1]] === values[idx[s]]) e++;
    const r = (s + e) / 2 + 1;
    for (let k = s; k <= e; k++) ranks[idx[k]] = r;
    s = e + 1;
  }
  return ranks;
}

/** Pearson correlation; undefined when either side is constant. */
export function pearson(a: readonly number[], b: readonly number[]): number | undefined {
  const n = a.length;
  if (n < 2 || b.length !== n) return undefined;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  if (saa <= 0 || sbb <= 0) return undefined;
  return sab / Math.sqrt(saa * sbb);
}

/** Spearman's ρ (Pearson on average ranks); undefined when either attribution is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number | undefined {
  return pearson(averageRanks(a), averageRanks(b));
}

/** Share of the k highest-scored tokens the two attributions have in common. */
export function topKOverlap(a: readonly number[], b: readonly number[], k: number): number {
  const idx = a.map((_, i) => i);
  const ta = new Set(rankByScore(a, idx).slice(0, k));
  const tb = rankByScore(b, idx).slice(0, k);
  return tb.filter((i) => ta.has(i)).length / Math.max(1, Math.min(k, a.length));
}
