import type { AttributionResult } from '../result';

/** The result as pretty JSON; parseResult() reads it back. */
export function toJson(result: AttributionResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}
