/**
 * The model's own ratings of its input (result.selfRating) beside the attribution of the same words: one row
 * per word with the model's −1…1 rating and the shown method's summed score, the rank correlation, and the
 * reply itself. An unreadable reply is said so, with the reply, never guessed at.
 */
import { wordScores } from '../../src/core/trust/selfRatingView';
import { formatScore, h } from '../dom';
import type { ViewModel } from '../viewModel';

const signed = (x: number): string => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(2);

export function renderSelfRating(vm: ViewModel): HTMLElement | undefined {
  const s = vm.result.selfRating;
  if (!s || typeof s !== 'object' || !s.parse || typeof s.reply !== 'string' || !Array.isArray(s.words)) return undefined;
  const reply = h('details', { class: 'self-rating-reply' }, h('summary', {}, 'The model’s reply'), h('pre', { class: 'token-text', id: 'self-rating-reply' }, s.reply));
  if (!s.parse.ok) {
    return h('div', { class: 'self-rating', id: 'self-rating' },
      h('p', { class: 'self-rating-unreadable', id: 'self-rating-unreadable' }, `Its reply could not be read: ${String(s.parse.reason)}`),
      h('p', { class: 'hint muted' }, 'Small models without instruction tuning rarely keep the reply format; the attribution above does not depend on it.'),
      reply);
  }
  const ratings = Array.isArray(s.parse.value?.ratings) ? s.parse.value.ratings : [];
  const runIndex = Math.max(0, vm.result.runs.findIndex((r) => r.method === vm.run?.method));
  const scores = wordScores(vm.result, vm.row, runIndex);
  const rows = s.words.map((w, i) => {
    const r = ratings[i];
    return h('tr', {},
      h('td', { class: 'token-text' }, String(w)),
      h('td', { class: 'num' }, typeof r === 'number' && Number.isFinite(r) ? signed(r) : '—'),
      h('td', { class: 'num' }, Number.isFinite(scores[i]) ? formatScore(scores[i]) : '—'));
  });
  const vs = s.vsAttribution;
  return h('div', { class: 'self-rating', id: 'self-rating' },
    h('p', { class: 'hint muted' }, 'Asked to rate each word of the input from −1 (against its answer) to 1 (for it), the model replied as below. A self-explanation can sound plausible without being faithful: compare it with the attribution.'),
    h('table', { class: 'self-rating-table', id: 'self-rating-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'word'), h('th', {}, 'model’s rating'), h('th', {}, `${vm.run?.method ?? 'attribution'} (summed per word)`))),
      h('tbody', {}, ...rows)),
    vs ? h('p', { class: 'self-rating-rho', id: 'self-rating-rho' }, `Spearman ρ between the ratings and ${vs.method}: ${vs.rho === null ? '— (too few rated words)' : signed(vs.rho)} over ${vs.words} words`) : undefined,
    s.parse.value.answer ? h('p', {}, 'Its answer: ', h('code', { class: 'token-text' }, JSON.stringify(s.parse.value.answer))) : undefined,
    reply);
}
