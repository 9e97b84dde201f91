/**
 * "Compare runs": a "Compare with…" control listing the document's earlier runs, and for the chosen one how
 * the prediction moved and each token's score change, the two prompts' tokens aligned by a text diff
 * (kept and moved tokens tinted by their change, inserted ones underlined, deleted ones struck through).
 */
import type { CompareState, RunSummary } from '../../src/core/compareProtocol';
import type { RunDiff, TokenChange } from '../../src/core/runDiff';
import { maxAbsOf } from '../../src/core/colourScale';
import { clickable, formatPercent, formatScore, h, section } from '../dom';
import { createDropdown } from '../toolkit';
import { appendTokenText } from '../tokenText';
import { tint } from './heatmap';

const NONE = 'none';

function runLabel(r: RunSummary): string {
  const time = new Date(r.id).toLocaleTimeString();
  const p = Number.isFinite(r.probability) ? ` ${formatPercent(r.probability)}` : '';
  return `${time} · ${r.methods.join(' + ')} · ${JSON.stringify(r.target)}${p} · ${JSON.stringify(r.promptStart)}`;
}

const KIND_WORD: Record<TokenChange['kind'], string> = { kept: 'kept', inserted: 'inserted', deleted: 'deleted', moved: 'moved' };

function chipTitle(t: TokenChange): string {
  const scores =
    t.kind === 'inserted' ? `score ${formatScore(t.scoreB ?? NaN)} (new)` :
    t.kind === 'deleted' ? `score ${formatScore(t.scoreA ?? NaN)} (removed)` :
    `score ${formatScore(t.scoreA ?? NaN)} → ${formatScore(t.scoreB ?? NaN)} (${formatScore(t.delta ?? NaN)})`;
  return `${JSON.stringify(t.text)} · ${KIND_WORD[t.kind]}\n${scores}`;
}

function renderPrediction(d: RunDiff): HTMLElement {
  const p = d.prediction;
  const after = p.after === undefined ? 'not among the listed predictions now' : formatPercent(p.after);
  const topMoved = p.top.text !== p.text && Number.isFinite(p.top.probability);
  return h('p', { class: 'compare-prediction', id: 'compare-prediction' },
    h('code', { class: 'token-text' }, JSON.stringify(p.text)), ' ',
    h('span', { class: 'before' }, formatPercent(p.before)), ' → ', h('span', { class: 'after' }, after),
    topMoved ? h('span', { class: 'muted' }, ` · the top prediction now: ${JSON.stringify(p.top.text)} ${formatPercent(p.top.probability)}`) : undefined,
  );
}

function renderDiffMap(d: RunDiff, onReveal: (tokenIndex: number) => void): HTMLElement {
  const deltas = d.tokens.map((t) => t.delta ?? 0);
  const maxAbs = maxAbsOf(deltas);
  const map = h('div', { class: 'heatmap diffmap', id: 'compare-tokens', attrs: { 'aria-label': 'Prompt tokens by score change' } });
  for (const t of d.tokens) {
    const chip = h('span', { class: `chip diff-${t.kind}`, title: chipTitle(t) });
    chip.dataset.kind = t.kind;
    if (t.kind === 'moved') chip.appendChild(h('span', { class: 'moved-mark', attrs: { 'aria-hidden': 'true' } }, '↷'));
    appendTokenText(chip, t.text);
    if (t.delta !== undefined) tint(chip, t.delta, maxAbs);
    // Tokens of the current prompt reveal their text in the editor, like the heatmap's chips.
    if (t.b !== undefined) {
      const b = t.b;
      clickable(chip, () => onReveal(b), chipTitle(t).replace('\n', ', '));
    } else {
      chip.setAttribute('aria-label', chipTitle(t).replace('\n', ', '));
    }
    map.appendChild(chip);
  }
  return map;
}

function renderLargest(d: RunDiff): HTMLElement | undefined {
  const moved = d.tokens.filter((t) => t.delta !== undefined && t.delta !== 0).sort((x, y) => Math.abs(y.delta!) - Math.abs(x.delta!)).slice(0, 5);
  if (!moved.length) return undefined;
  return h('ol', { class: 'compare-largest', id: 'compare-largest', attrs: { 'aria-label': 'Largest score changes' } },
    ...moved.map((t) => h('li', {}, h('code', { class: 'token-text' }, JSON.stringify(t.text)),
      h('span', { class: 'delta' }, ` ${formatScore(t.delta!)} `), h('span', { class: 'muted' }, `(${formatScore(t.scoreA!)} → ${formatScore(t.scoreB!)})`))),
  );
}

/** The section, or undefined when the document has no earlier run. */
export function renderCompare(state: CompareState, onPick: (run: string | null) => void, onReveal: (tokenIndex: number) => void): HTMLElement | undefined {
  if (!state.earlier.length) return undefined;
  const pick = createDropdown('compare-with', 'Compare with an earlier run', (v) => onPick(v === NONE ? null : v));
  const chosen = state.comparison?.with;
  pick.setOptions([{ value: NONE, label: 'Compare with… (an earlier run of this document)' }, ...state.earlier.map((r) => ({ value: r.id, label: runLabel(r) }))], chosen ?? NONE);
  const parts: (HTMLElement | undefined)[] = [h('div', { class: 'control compare-control' }, pick.element)];
  const d = state.comparison?.diff;
  if (d) {
    const c = d.counts;
    parts.push(
      renderPrediction(d),
      h('p', { class: 'muted', id: 'compare-counts' },
        `${c.kept} kept · ${c.inserted} inserted · ${c.deleted} deleted · ${c.moved} moved` +
          (d.method.a === d.method.b ? ` · ${d.method.a}` : ` · ${d.method.a} then, ${d.method.b} now: scores of different methods`)),
      renderDiffMap(d, onReveal),
      h('p', { class: 'hint muted compare-legend' }, 'Tint: change of each token’s score since the earlier run (orange: rose, blue: fell). Underlined: inserted. Struck through: deleted. ↷: moved.'),
      renderLargest(d),
    );
  }
  return section('Compare runs', 'compare-section', ...parts);
}
