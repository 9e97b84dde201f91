/** One CSV row per (method, target row, input token): easy to load into a spreadsheet or pandas. */
import type { AttributionResult } from '../result';

export function toCsv(result: AttributionResult): string {
  const lines = [['method', 'target_index', 'target', 'target_probability', 'token_index', 'token_id', 'token', 'start', 'end', 'special', 'score'].join(',')];
  for (const run of result.runs) {
    run.scores.forEach((row, r) => {
      const target = result.target.rows[r];
      const label = target.foilText !== undefined ? `${target.text} vs ${target.foilText}` : target.text;
      result.input.tokens.forEach((tok, i) => {
        lines.push(
          [run.method, r, cell(label), target.probability, i, tok.id, cell(tok.text), tok.start, tok.end, tok.special, row[i]]
            .map(String)
            .join(','),
        );
      });
    });
  }
  return lines.join('\n') + '\n';
}

/** RFC 4180 quoting; a leading =,+,-,@ is prefixed so spreadsheets do not run it as a formula. */
function cell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}
