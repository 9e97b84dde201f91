/**
 * Source × target matrix: one row per output token, one column per prompt token (or word, line …), all on
 * one colour scale so rows can be compared. Clicking a row selects it.
 */
import { scoreRgba } from '../../src/core/colourScale';
import { showMarks } from '../../src/core/viewUnits';
import { formatScore, h } from '../dom';
import type { ViewModel } from '../viewModel';

const visible = (t: string) => showMarks(t).replace(/\r?\n/g, '↵').replace(/\t/g, '→').replace(/ /g, '·');

export function renderMatrix(vm: ViewModel, onSelect: (row: number) => void): HTMLElement {
  const grid = h('div', { class: 'matrix', attrs: { role: 'grid', 'aria-label': 'Source by target attribution matrix' } });
  grid.style.setProperty('--cols', String(vm.groups.length));
  // Column headers: prompt pieces, written vertically.
  grid.appendChild(h('span', { class: 'corner' }, 'target ↓ / prompt →'));
  for (const g of vm.groups) grid.appendChild(h('span', { class: 'col-label', title: JSON.stringify(g.text) }, visible(g.text)));
  vm.matrix.forEach((cells, r) => {
    const rowText = vm.result.target.rows[r]?.text ?? '';
    const label = h('span', { class: 'row-label' + (r === vm.row ? ' selected' : ''), title: JSON.stringify(rowText) }, visible(rowText));
    label.addEventListener('click', () => onSelect(r));
    grid.appendChild(label);
    cells.forEach((s, c) => {
      const cell = h('span', { class: 'cell' + (r === vm.row ? ' selected' : ''), title: `${JSON.stringify(rowText)} ← ${JSON.stringify(vm.groups[c].text)}: ${formatScore(s)}` });
      cell.style.setProperty('--chip-bg', scoreRgba(s, vm.matrixMaxAbs));
      cell.dataset.row = String(r);
      cell.addEventListener('click', () => onSelect(r));
      grid.appendChild(cell);
    });
  });
  return h('div', { class: 'matrix-scroll' }, grid);
}
