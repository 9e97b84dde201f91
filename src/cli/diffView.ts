/** `promptscope diff a.json b.json`: the prediction's move and every token's score change, as plain text. */
import type { RunDiff, TokenChange } from '../core/runDiff';

export const DIFF_USAGE = `Usage: promptscope diff A.json B.json [--json]

Compares two saved results (promptscope explain --json): how the explained prediction's probability moved,
and each token's score, with the two prompts' tokens aligned by a text diff:
  =  kept      score in A → score in B (change)
  +  inserted  score in B
  -  deleted   score in A
  ~  moved     the same text elsewhere in B: score in A → score in B (change)
Options:
  --json       print the comparison as JSON
`;

const pct = (p: number | undefined): string => (p === undefined || !Number.isFinite(p) ? '?' : `${(p * 100).toFixed(1)} %`);
const num = (v: number | undefined): string => (v === undefined ? '' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(4)}`);
const shown = (text: string): string => JSON.stringify(text);

export function renderDiff(d: RunDiff): string {
  const lines: string[] = [];
  const p = d.prediction;
  const top = d.prediction.top.text !== p.text ? ` (top in B: ${shown(p.top.text)} ${pct(p.top.probability)})` : '';
  lines.push(`Prediction: ${shown(p.text)} ${pct(p.before)} → ${p.after === undefined ? 'not among B\'s listed predictions' : pct(p.after)}${top}`);
  lines.push(`Method: ${d.method.a === d.method.b ? d.method.a : `${d.method.a} (A) vs ${d.method.b} (B)`}`);
  lines.push(`Tokens: ${d.counts.kept} kept, ${d.counts.inserted} inserted, ${d.counts.deleted} deleted, ${d.counts.moved} moved`);
  lines.push('');
  const width = Math.min(24, Math.max(6, ...d.tokens.map((t) => shown(t.text).length)));
  const mark: Record<TokenChange['kind'], string> = { kept: '=', inserted: '+', deleted: '-', moved: '~' };
  for (const t of d.tokens) {
    const scores = t.kind === 'inserted' ? num(t.scoreB) : t.kind === 'deleted' ? num(t.scoreA) : `${num(t.scoreA)} → ${num(t.scoreB)}  (${num(t.delta)})`;
    lines.push(`${mark[t.kind]} ${shown(t.text).padEnd(width)} ${scores}`);
  }
  return lines.join('\n') + '\n';
}
