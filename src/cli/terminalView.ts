/**
 * The prompt printed as a heatmap in a terminal. Each tinted token gets both a background and a matching
 * foreground, so it reads the same on dark and light terminals; without colour, scores are printed as a
 * table instead.
 */
import { completenessNote } from '../core/completenessNote';
import { aggregateScores, type Group } from '../core/aggregation';
import { viewGroups } from '../core/viewUnits';
import { selfRatingLines, trustLines, variationLines } from '../core/trust/trustText';
import { maxAbsOf, SCALE_ENDS } from '../core/colourScale';
import type { Granularity } from '../core/request';
import { editLine } from '../core/counterfactualText';
import type { AttributionResult } from '../core/result';

export interface TerminalViewOptions {
  color: boolean;
  granularity: Granularity;
  top: number;
}

export function renderResult(result: AttributionResult, opts: TerminalViewOptions): string {
  const out: string[] = [];
  const rows = result.target.rows;
  const first = result.predictions[0];
  out.push(`Model ${result.model.id} (${result.model.architecture})`);
  const variant = result.model.variant;
  if (variant) out.push(`Variant ${variant.name}: ${variant.reason}`);
  const template = result.input.tokens.filter((t) => t.template);
  if (template.length) out.push(`Chat message: ${template.length} template tokens around your text (${template.map((t) => JSON.stringify(t.text)).slice(0, 6).join(' ')}${template.length > 6 ? ' …' : ''})`);
  if (result.model.kind === 'causal-lm') {
    out.push(`Prediction: ${q(first.text)} (p = ${fmtP(first.probability)})   next: ${result.predictions.slice(1).map((p) => `${q(p.text)} ${fmtP(p.probability)}`).join(', ')}`);
  } else {
    out.push(`Prediction: ${first.text} (p = ${fmtP(first.probability)})   ${result.predictions.slice(1).map((p) => `${p.text} ${fmtP(p.probability)}`).join(', ')}`);
  }
  if (result.input.truncatedAt !== undefined) out.push(`(explaining from character ${result.input.truncatedAt}: the start of the prompt was beyond the limit)`);
  // Byte pieces and lone marks count towards the character they belong to, as in the editor and panel.
  const groups = viewGroups(result.input.text, result.input.tokens, opts.granularity);
  for (const run of result.runs) {
    out.push('');
    out.push(`Method ${run.method}: ${run.meaning}`);
    out.push(`  ${run.diagnostics.occlusions !== undefined ? `${run.diagnostics.occlusions} occlusion passes, ` : ''}${run.diagnostics.forwardPasses} forward / ${run.diagnostics.backwardPasses} backward passes in ${run.diagnostics.batches} batches, ${run.diagnostics.elapsedMs} ms${run.diagnostics.seed !== undefined ? `, seed ${run.diagnostics.seed}` : ''}${samplingText(run.diagnostics)}`);
    for (const r of (run.diagnostics.completenessGap ?? []).keys()) out.push(`  ${rows.length > 1 ? `target ${r + 1}: ` : ''}${completenessNote(run, r)}`);
    const showRows = rows.length > 8 ? [0, rows.length - 1] : rows.map((_, i) => i);
    for (const r of showRows) {
      const row = rows[r];
      const target = row.foilText !== undefined ? `${q(row.text)} rather than ${q(row.foilText)}` : q(row.text);
      out.push(`Target ${rows.length > 1 ? `${r + 1}/${rows.length} ` : ''}${target}  p = ${fmtP(row.probability)}  score = ${row.score.toFixed(3)}`);
      const scores = aggregateScores(run.scores[r], groups, 'sum');
      out.push(opts.color ? heatmap(result.input.text, groups, scores) : plainLine(result.input.text));
      out.push(topList(groups, scores, opts.top));
    }
    if (showRows.length < rows.length) out.push(`(${rows.length - showRows.length} more target rows: use --json, --csv or --html for all)`);
  }
  if (result.trust) out.push(...trustLines(result.trust));
  out.push(...variationLines(result));
  out.push(...selfRatingLines(result));
  const cf = result.counterfactuals;
  if (cf) {
    out.push('');
    out.push(`Counterfactual edits for ${q(rows[cf.row]?.text ?? cf.top.text)} (each verified by a forward pass; ${cf.verified} tried):`);
    cf.edits.slice(0, Math.max(opts.top, 10)).forEach((e, i) => out.push(`  ${String(i + 1).padStart(2)}. ${editLine(e)}`));
    if (cf.edits.length > Math.max(opts.top, 10)) out.push(`  (${cf.edits.length - Math.max(opts.top, 10)} more: use --json)`);
  }
  return out.join('\n') + '\n';
}

function heatmap(text: string, groups: Group[], scores: number[]): string {
  const maxAbs = maxAbsOf(scores);
  let s = '  ';
  let at = 0;
  groups.forEach((g, i) => {
    if (g.start > at) s += text.slice(at, g.start);
    s += paint(text.slice(g.start, g.end), scores[i], maxAbs);
    at = g.end;
  });
  return (s + text.slice(at).replace(/\n+$/, '')).replace(/\n/g, '\n  ');
}

/** Blend the scale colour towards white by strength; dark text on pale cells, white on strong ones. */
function paint(s: string, score: number, maxAbs: number): string {
  const k = maxAbs > 0 ? Math.min(1, Math.abs(score) / maxAbs) : 0;
  if (k < 0.06) return s;
  const end = SCALE_ENDS[score > 0 ? 'pos' : 'neg'];
  const mix = (c: number) => Math.round(255 + (c - 255) * (0.25 + 0.75 * k));
  const [r, g, b] = [mix(end.r), mix(end.g), mix(end.b)];
  const fg = 0.299 * r + 0.587 * g + 0.114 * b > 150 ? '30' : '97';
  return s.split('\n').map((part) => (part ? `\x1b[48;2;${r};${g};${b}m\x1b[${fg}m${part}\x1b[0m` : part)).join('\n');
}

function plainLine(text: string): string {
  return '  ' + text.replace(/\n+$/, '').replace(/\n/g, '\n  ');
}

function topList(groups: Group[], scores: number[], k: number): string {
  const order = scores.map((s, i) => i).sort((a, b) => Math.abs(scores[b]) - Math.abs(scores[a])).slice(0, k);
  const total = scores.reduce((a, b) => a + Math.abs(b), 0) || 1;
  return order
    .map((i, rank) => `  ${String(rank + 1).padStart(2)}. ${q(groups[i].text).padEnd(18)} ${scores[i] >= 0 ? '+' : ''}${scores[i].toFixed(4)}  (${((Math.abs(scores[i]) / total) * 100).toFixed(1)}%)`)
    .join('\n');
}

function q(s: string): string {
  return JSON.stringify(s);
}

function fmtP(p: number): string {
  return p >= 0.001 ? p.toFixed(3) : p.toExponential(1);
}

/** Samples, largest standard error and fit R² of the sampling methods. */
function samplingText(d: AttributionResult['runs'][number]['diagnostics']): string {
  const parts: string[] = [];
  if (d.samples !== undefined) parts.push(`${d.samples} samples`);
  if (d.samplingError) parts.push(`standard error up to ${Math.max(0, ...d.samplingError.flat()).toPrecision(2)}`);
  if (d.fitR2) parts.push(`fit R² ${d.fitR2.map((r) => r.toFixed(3)).join(' ')}`);
  return parts.length ? `, ${parts.join(', ')}` : '';
}
