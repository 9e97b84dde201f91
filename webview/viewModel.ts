/**
 * What the panel draws, derived from a result and the view settings. Pure: every render starts here, and
 * no score is recomputed — only summed over groups at coarser granularities.
 */
import { aggregateScores, type Group } from '../src/core/aggregation';
import { maxAbsOf } from '../src/core/colourScale';
import type { PanelView } from '../src/core/panelProtocol';
import type { AttributionResult, MethodRun, TargetRow } from '../src/core/result';
import { viewGroups } from '../src/core/viewUnits';

export interface ViewModel {
  result: AttributionResult;
  run: MethodRun | undefined;
  /** Selected target row, clamped to the rows that exist. */
  row: number;
  targetRow: TargetRow | undefined;
  groups: Group[];
  /** Scores of the selected row per group, and the scale they are coloured on (all rows' by default). */
  scores: number[];
  maxAbs: number;
  /** scores per target row per group, and one scale for the whole matrix. */
  matrix: number[][];
  matrixMaxAbs: number;
  /** Sum of |scores| of the selected row, for shares. */
  totalAbs: number;
}

export function buildViewModel(result: AttributionResult, view: PanelView): ViewModel {
  const run = result.runs.find((r) => r.method === view.method) ?? result.runs[0];
  const rows = result.target.rows;
  const row = Math.min(Math.max(view.row, 0), Math.max(rows.length - 1, 0));
  const groups = viewGroups(result.input.text, result.input.tokens, view.granularity);
  // Attributions are additive, so a word's score is the sum of its tokens' scores.
  const matrix = run ? run.scores.map((s) => aggregateScores(s, groups, 'sum')) : [];
  const scores = matrix[row] ?? groups.map(() => 0);
  const matrixMaxAbs = maxAbsOf(matrix.flat());
  return {
    result,
    run,
    row,
    targetRow: rows[row],
    groups,
    scores,
    maxAbs: view.rowScale === 'per-row' ? maxAbsOf(scores) : matrixMaxAbs,
    matrix,
    matrixMaxAbs,
    totalAbs: scores.reduce((a, s) => a + (Number.isFinite(s) ? Math.abs(s) : 0), 0),
  };
}

/** Indices of the k groups with the largest |score|, strongest first. */
export function topK(scores: readonly number[], k: number): number[] {
  return scores
    .map((s, i) => [Math.abs(s), i] as const)
    .filter(([a]) => Number.isFinite(a) && a > 0)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

/** Whether the target has several output tokens worth showing as a row. */
export function hasContinuation(result: AttributionResult): boolean {
  const kind = result.target.spec.kind;
  return result.target.rows.length > 1 || kind === 'forced' || kind === 'generate';
}
