/** The model's most likely next tokens as a bar chart. */
import { formatPercent, h } from '../dom';
import { appendTokenText } from '../tokenText';
import type { ViewModel } from '../viewModel';

export function renderPredictions(vm: ViewModel, count = 5): HTMLElement {
  const list = h('ol', { class: 'bars' });
  const preds = [...vm.result.predictions].sort((a, b) => b.probability - a.probability).slice(0, count);
  for (const p of preds) {
    const label = h('span', { class: 'bar-label token-text' });
    appendTokenText(label, p.text);
    const fill = h('span', { class: 'bar-fill' });
    fill.style.setProperty('--value', String(Math.max(0, Math.min(1, p.probability))));
    list.appendChild(h('li', { class: 'bar-row', title: `${JSON.stringify(p.text)}: p = ${formatPercent(p.probability)}` },
      label, h('span', { class: 'bar-track' }, fill), h('span', { class: 'bar-value' }, formatPercent(p.probability))));
  }
  if (preds.length === 0) list.appendChild(h('li', { class: 'muted' }, 'No predictions in this result.'));
  return list;
}
