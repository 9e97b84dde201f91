/** How to state an integrated-gradients completeness gap to a user (CLI, hover); the panel mirrors it. */
import type { MethodRun } from './result';

/** Above this relative gap the scores do not add up closely enough: the user is told to raise the steps. */
export const RELATIVE_GAP_HINT = 0.01;

export function completenessNote(run: MethodRun, row: number): string | undefined {
  const rel = run.diagnostics.relativeCompletenessGap?.[row];
  const gap = run.diagnostics.completenessGap?.[row];
  if (rel === undefined && gap === undefined) return undefined;
  const text = rel !== undefined
    ? `completeness gap ${(rel * 100).toPrecision(2)} % of f(input) − f(baseline)`
    : `completeness gap ${gap!.toPrecision(2)}`;
  if (rel !== undefined && rel > RELATIVE_GAP_HINT) return `${text} (above 1 %: the scores do not add up yet; raise the steps, e.g. --steps 64 --max-steps 256)`;
  return text;
}
