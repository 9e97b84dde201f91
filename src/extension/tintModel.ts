/**
 * What the tints show, as a pure function of a result and the view settings: one score per token (the
 * token's own, or its word's / line's / sentence's summed score) and the colour bucket for it.
 */
import { aggregateScores, groupTokens } from '../core/aggregation';
import { bucketOf, maxAbsOf, type Bucket } from '../core/colourScale';
import type { Granularity } from '../core/request';
import type { AttributionResult } from '../core/result';

export type ColourScaleMode = 'diverging' | 'absolute' | 'positive';

export interface TokenShade {
  /** Score shown for this token (its group's score at coarser granularities). */
  score: number;
  bucket: Bucket | undefined;
}

export interface TintView {
  /** Indexed by token index. */
  shades: (TokenShade | undefined)[];
  maxAbs: number;
}

export function tintView(
  result: AttributionResult,
  runIndex: number,
  rowIndex: number,
  granularity: Granularity,
  scale: ColourScaleMode,
): TintView {
  const run = result.runs[runIndex] ?? result.runs[0];
  const row = run?.scores[rowIndex] ?? run?.scores[0];
  const shades: (TokenShade | undefined)[] = new Array(result.input.tokens.length).fill(undefined);
  if (!row) return { shades, maxAbs: 0 };
  const groups = groupTokens(result.input.text, result.input.tokens, granularity);
  const values = aggregateScores(row, groups, 'sum').map((v) =>
    scale === 'absolute' ? Math.abs(v) : scale === 'positive' ? Math.max(0, v) : v,
  );
  const maxAbs = maxAbsOf(values);
  groups.forEach((g, gi) => {
    const bucket = bucketOf(values[gi], maxAbs);
    for (const ti of g.tokens) shades[ti] = { score: values[gi], bucket };
  });
  return { shades, maxAbs };
}

/** Rank (1 = largest) of each token's score by absolute value, and each token's share of Σ|score|. */
export function ranksAndShares(row: readonly number[], visible: readonly boolean[]): { rank: number[]; share: number[]; count: number } {
  const idx = row.map((_, i) => i).filter((i) => visible[i]);
  const sorted = [...idx].sort((a, b) => Math.abs(row[b]) - Math.abs(row[a]));
  const rank = new Array<number>(row.length).fill(0);
  sorted.forEach((i, r) => (rank[i] = r + 1));
  const total = idx.reduce((a, i) => a + Math.abs(row[i]), 0);
  const share = row.map((v, i) => (visible[i] && total > 0 ? Math.abs(v) / total : 0));
  return { rank, share, count: idx.length };
}
