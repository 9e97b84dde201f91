/**
 * What the tints show, as a pure function of a result and the view settings: the units painted (tokens, or
 * words / lines / sentences, with zero-width pieces folded in and words of shaping scripts kept whole), one
 * summed score per unit and the colour bucket for it.
 */
import { aggregateScores, type Group } from '../core/aggregation';
import { bucketOf, maxAbsOf, type Bucket } from '../core/colourScale';
import type { Granularity } from '../core/request';
import type { AttributionResult } from '../core/result';
import { shapingSafeGroups, shapingScriptOf } from '../core/tintRanges';
import { viewGroups } from '../core/viewUnits';

export type ColourScaleMode = 'diverging' | 'absolute' | 'positive';
/** One colour scale for all target rows (rows compare), or each row against its own maximum. */
export type RowScaleMode = 'shared' | 'per-row';

export interface TokenShade {
  /** Score shown for this token (its unit's summed score when the unit has several tokens). */
  score: number;
  bucket: Bucket | undefined;
  /** Index into TintView.groups of the unit this token is painted with. */
  group: number;
}

export interface TintView {
  /** Indexed by token index. */
  shades: (TokenShade | undefined)[];
  /** Painted units in text order. */
  groups: Group[];
  /** Per group: its summed score, bucket, and the script that kept it whole (when that merged tokens). */
  groupShades: { score: number; bucket: Bucket | undefined; wholeWordScript?: string }[];
  maxAbs: number;
}

export function tintView(
  result: AttributionResult,
  runIndex: number,
  rowIndex: number,
  granularity: Granularity,
  scale: ColourScaleMode,
  rowScale: RowScaleMode = 'shared',
): TintView {
  const run = result.runs[runIndex] ?? result.runs[0];
  const rowAt = Math.min(Math.max(rowIndex, 0), Math.max((run?.scores.length ?? 1) - 1, 0));
  const row = run?.scores[rowAt];
  const shades: (TokenShade | undefined)[] = new Array(result.input.tokens.length).fill(undefined);
  if (!row) return { shades, groups: [], groupShades: [], maxAbs: 0 };
  const text = result.input.text;
  const units = viewGroups(text, result.input.tokens, granularity);
  const groups = shapingSafeGroups(text, units);
  const shapeOf = (scores: readonly number[]) =>
    aggregateScores(scores, groups, 'sum').map((v) => (scale === 'absolute' ? Math.abs(v) : scale === 'positive' ? Math.max(0, v) : v));
  const values = shapeOf(row);
  const maxAbs = rowScale === 'per-row' ? maxAbsOf(values) : maxAbsOf(run.scores.flatMap((r) => shapeOf(r)));
  const groupShades = groups.map((g, gi) => {
    const bucket = bucketOf(values[gi], maxAbs);
    const visibleTokens = g.tokens.filter((i) => result.input.tokens[i].end > result.input.tokens[i].start);
    const wasSplit = visibleTokens.length > 1 && !units.some((u) => u.start === g.start && u.end === g.end);
    for (const ti of g.tokens) shades[ti] = { score: values[gi], bucket, group: gi };
    return { score: values[gi], bucket, ...(wasSplit && { wholeWordScript: shapingScriptOf(g.text) }) };
  });
  return { shades, groups, groupShades, maxAbs };
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
