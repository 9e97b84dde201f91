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

/** One colour scale for all rows (the default, so rows compare) or each row against its own maximum. */
export function renderRowScaleToggle(perRow: boolean, onChange: (perRow: boolean) => void): HTMLElement {
  const box = h('input', { id: 'row-scale', attrs: { type: 'checkbox' } }) as HTMLInputElement;
  box.checked = perRow;
  box.addEventListener('change', () => onChange(box.checked));
  return h('label', { class: 'row-scale muted' }, box, ' Colour each output token on its own scale');
}
