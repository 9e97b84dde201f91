/** The explained output tokens as a row; the selected one is the row whose attribution is shown. */
import { clickable, formatPercent, h } from '../dom';
import { appendTokenText } from '../tokenText';
import type { ViewModel } from '../viewModel';

export function renderOutputRow(vm: ViewModel, onSelect: (row: number) => void): HTMLElement {
  const row = h('div', { class: 'outputs', attrs: { role: 'toolbar', 'aria-label': 'Output tokens' } });
  vm.result.target.rows.forEach((r, i) => {
    const selected = i === vm.row;
    const chip = h('span', {
      class: 'out-chip' + (selected ? ' selected' : ''),
      title: `${JSON.stringify(r.text)}${r.foilText !== undefined ? ` vs ${JSON.stringify(r.foilText)}` : ''}\np = ${formatPercent(r.probability)}, explained score ${r.score.toPrecision(3)}`,
    });
    chip.dataset.row = String(i);
    chip.setAttribute('aria-pressed', String(selected));
    const text = h('span', { class: 'out-text' });
    appendTokenText(text, r.text);
    chip.append(text, h('span', { class: 'out-prob' }, formatPercent(r.probability)));
    clickable(chip, () => onSelect(i), `Output token ${i + 1}: ${r.text}`);
    row.appendChild(chip);
  });
  return row;
}
