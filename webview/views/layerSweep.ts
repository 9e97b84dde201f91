/**
 * Layer sweep: a layer × token heatmap of a layer method's scores at every depth of the residual stream (rows:
 * the embeddings, then the output of each block; columns: prompt pieces at the panel's granularity), on one
 * colour scale so that depths can be compared. Without a sweep in the result, a "Sweep layers" button re-runs
 * layer gradient × activation, whose one backward pass gives every depth.
 */
import { aggregateScores } from '../../src/core/aggregation';
import { maxAbsOf, scoreRgba } from '../../src/core/colourScale';
import { showMarks } from '../../src/core/viewUnits';
import { formatScore, h } from '../dom';
import { createButton } from '../toolkit';
import type { ViewModel } from '../viewModel';

const visible = (t: string) => showMarks(t).replace(/\r?\n/g, '↵').replace(/\t/g, '→').replace(/ /g, '·');
const depthName = (s: number) => (s === 0 ? 'embeddings' : `block ${s - 1}`);

export function renderLayerSweep(vm: ViewModel, onSweep: () => void): HTMLElement | undefined {
  const sweep = vm.run?.layerSweep;
  const decoderOrClassifier = vm.result.model.kind === 'causal-lm' || vm.result.model.kind === 'sequence-classifier';
  if (!sweep) {
    if (!decoderOrClassifier) return undefined;
    return h('div', { class: 'layer-sweep-offer' },
      h('p', { class: 'hint muted' }, 'Where in depth each token matters: gradient × activation at the residual stream after every block, from one backward pass.'),
      createButton('Sweep layers', onSweep, { id: 'sweep-layers', title: 'Explain again with layer gradient × activation and show every layer' }));
  }
  const rows = sweep.scores[vm.row] ?? sweep.scores[0] ?? [];
  const cells = rows.map((s) => aggregateScores(s, vm.groups, 'sum'));
  const maxAbs = maxAbsOf(cells.flat());
  const grid = h('div', { class: 'matrix layer-sweep', id: 'layer-sweep', attrs: { role: 'grid', 'aria-label': 'Layer by token attribution' } });
  grid.style.setProperty('--cols', String(vm.groups.length));
  grid.appendChild(h('span', { class: 'corner' }, 'depth ↓ / prompt →'));
  for (const g of vm.groups) grid.appendChild(h('span', { class: 'col-label', title: JSON.stringify(g.text) }, visible(g.text)));
  const chosen = typeof vm.run?.params.layer === 'number' ? vm.run.params.layer + (vm.run.params.layerInput ? 0 : 1) : undefined;
  cells.forEach((row, k) => {
    const s = sweep.streams[k];
    grid.appendChild(h('span', { class: 'row-label' + (s === chosen ? ' selected' : ''), title: s === chosen ? 'the layer the tints show' : '' }, depthName(s)));
    row.forEach((v, c) => {
      const cell = h('span', { class: 'cell', title: `${depthName(s)} · ${JSON.stringify(vm.groups[c].text)}: ${formatScore(v)}` });
      cell.style.setProperty('--chip-bg', scoreRgba(v, maxAbs));
      cell.dataset.stream = String(s);
      cell.dataset.score = String(v);
      grid.appendChild(cell);
    });
  });
  return h('div', {},
    h('p', { class: 'hint muted' }, `${vm.run!.method} at every depth (one colour scale; the highlighted row is the layer the tints show). Deeper rows score positions that have already mixed in their context.`),
    h('div', { class: 'matrix-scroll' }, grid));
}
