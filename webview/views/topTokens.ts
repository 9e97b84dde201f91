/** The prompt pieces with the largest |score| for the selected output, strongest first. */
import { clickable, formatPercent, formatScore, h } from '../dom';
import { appendTokenText } from '../tokenText';
import { topK, type ViewModel } from '../viewModel';
import { tint } from './heatmap';

export function renderTopTokens(vm: ViewModel, onReveal: (group: number) => void, k = 10): HTMLElement {
  const list = h('ol', { class: 'top-tokens' });
  for (const i of topK(vm.scores, k)) {
    const chip = h('span', { class: 'chip' });
    appendTokenText(chip, vm.groups[i].text);
    tint(chip, vm.scores[i], vm.maxAbs);
    const share = vm.totalAbs > 0 ? formatPercent(Math.abs(vm.scores[i]) / vm.totalAbs) : '';
    const item = h('li', { class: 'top-row' }, chip, h('span', { class: 'top-score' }, formatScore(vm.scores[i])), h('span', { class: 'top-share muted' }, share));
    clickable(item, () => onReveal(i), `Reveal ${vm.groups[i].text}`);
    list.appendChild(item);
  }
  if (!list.firstChild) list.appendChild(h('li', { class: 'muted' }, 'All scores are zero for this output.'));
  return list;
}
