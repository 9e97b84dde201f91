/**
 * Attention methods carry every layer's and head's probabilities (layers × heads × n² numbers). Exports keep
 * them only when asked; this is the result without them, and a plain-text summary of them.
 */
import type { AttentionDetail, AttributionResult } from '../result';

export function withoutAttentionDetail(result: AttributionResult): AttributionResult {
  if (!result.runs.some((r) => r.attention)) return result;
  return { ...result, runs: result.runs.map(({ attention: _a, ...run }) => run) };
}

/**
 * Per layer and head, the prompt token the predicting position of the first target row attends to most, with
 * its weight — the text form of the panel's layer × head grid.
 */
export function attentionSummary(detail: AttentionDetail, tokenText: (i: number) => string): string {
  const q = detail.rowQueries[0] ?? detail.promptLength - 1;
  const cell = (l: number, h: number): string => {
    const row = detail.probs[l][h][q];
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
    const label = best < detail.promptLength ? tokenText(best) : detail.continuation[best - detail.promptLength] ?? '';
    return `${JSON.stringify(label)} ${row[best].toFixed(2)}`;
  };
  const width = Math.max(12, ...Array.from({ length: detail.layers }, (_, l) => Math.max(...Array.from({ length: detail.heads }, (_, h) => cell(l, h).length))));
  const lines = [`most-attended token from position ${q}, per layer (rows) and head (columns):`];
  lines.push(' '.repeat(9) + Array.from({ length: detail.heads }, (_, h) => `head ${h}`.padEnd(width)).join(' '));
  for (let l = 0; l < detail.layers; l++) lines.push(`layer ${l}`.padEnd(9) + Array.from({ length: detail.heads }, (_, h) => cell(l, h).padEnd(width)).join(' '));
  return lines.join('\n') + '\n';
}
