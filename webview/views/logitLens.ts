/**
 * Logit lens: for the selected target row, the target's probability after every block (a bar per layer) and the
 * tokens the model's final norm and LM head would predict there — where in depth the answer appears.
 */
import { formatPercent, h } from '../dom';
import { createButton } from '../toolkit';
import type { ViewModel } from '../viewModel';

const depthName = (l: number, layers: number) => (l === 0 ? 'embeddings' : l === layers ? `block ${l - 1} (output)` : `block ${l - 1}`);

export function renderLogitLens(vm: ViewModel, onRequest: () => void): HTMLElement | undefined {
  const lens = vm.result.logitLens;
  if (!lens) {
    if (vm.result.model.kind !== 'causal-lm') return undefined;
    return h('div', { class: 'logit-lens-offer' },
      h('p', { class: 'hint muted' }, 'Read the prediction after every block through the model’s final norm and LM head.'),
      createButton('Show logit lens', onRequest, { id: 'show-logit-lens', title: 'Explain again and read every layer through the logit lens' }));
  }
  const row = lens.rows.find((r) => r.row === vm.row) ?? lens.rows[0];
  if (!row) return undefined;
  const table = h('table', { class: 'logit-lens', id: 'logit-lens' },
    h('thead', {}, h('tr', {}, h('th', {}, 'after'), h('th', {}, 'p(target)'), h('th', {}, ''), h('th', {}, 'top tokens'))));
  const body = h('tbody', {});
  for (const l of row.layers) {
    const bar = h('span', { class: 'lens-bar' });
    bar.style.setProperty('--p', String(Math.min(1, Math.max(0, l.probability))));
    const top = h('td', { class: 'lens-top' });
    l.top.slice(0, 3).forEach((t, i) => {
      if (i > 0) top.appendChild(h('span', { class: 'muted' }, ', '));
      top.appendChild(h('code', { class: 'token-text' }, JSON.stringify(t.text)));
      top.appendChild(h('span', { class: 'muted' }, ` ${formatPercent(t.probability)}`));
    });
    const tr = h('tr', {},
      h('td', {}, depthName(l.layer, lens.layers)),
      h('td', { class: 'num' }, formatPercent(l.probability) + (l.foilProbability !== undefined ? ` vs ${formatPercent(l.foilProbability)}` : '')),
      h('td', {}, bar),
      top);
    tr.dataset.layer = String(l.layer);
    tr.dataset.probability = String(l.probability);
    body.appendChild(tr);
  }
  table.appendChild(body);
  return h('div', {}, h('p', { class: 'hint muted' }, `Position ${row.position}: the model’s own final norm and LM head applied to the residual stream after each block; the last row is the model’s prediction.`), table);
}
