/** Wording of partial results in the hover and the legend's tooltip. Pure. */
import { isPendingToken, partialSummary } from '../core/partialResult';
import type { AttributionResult } from '../core/result';

/** The hover line of a token of a partial result; undefined for a final result. */
export function partialHoverText(result: AttributionResult, runIndex: number, token: number): string | undefined {
  const summary = partialSummary(result);
  if (!summary) return undefined;
  const run = result.runs[runIndex];
  if (!run || run.method !== result.partial!.method || result.partial!.phase) return summary;
  if (isPendingToken(result, runIndex, token)) {
    return `${summary}: this token is not scored yet (its score 0 is no measurement)`;
  }
  const stopped = result.partial!.state === 'cancelled' ? 'the run was cancelled, so this is all there is' : 'more is coming';
  return `${summary}: this score is measured exactly as in a full run; ${stopped}`;
}

/** The legend tooltip's first paragraph for a partial result. */
export function partialLegendText(result: AttributionResult): string {
  const p = result.partial!;
  const summary = partialSummary(result)!;
  if (p.state === 'running') return `Partial result (${summary}): the tints update as the model runs.`;
  return `Partial result (${summary}): the run was cancelled; the tints show what it had measured.`;
}
