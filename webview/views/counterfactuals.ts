/** The verified counterfactual edits of a result: what to change, and what the model then says. */
import { editAction, percent } from '../../src/core/counterfactualText';
import { formatScore, h } from '../dom';
import type { ViewModel } from '../viewModel';

export function renderCounterfactuals(vm: ViewModel, max = 12): HTMLElement | undefined {
  const cf = vm.result.counterfactuals;
  if (!cf || cf.edits.length === 0) return undefined;
  const row = vm.result.target.rows[cf.row];
  const items = cf.edits.slice(0, max).map((e) =>
    h('li', { class: 'counterfactual' },
      h('span', { class: 'token-text' }, editAction(e)),
      ' → ',
      h('code', { class: 'token-text' }, JSON.stringify(e.newTop.text)),
      ` (${percent(e.newTop.probability)})`,
      h('span', { class: 'muted' }, ` · score ${formatScore(e.delta)}${e.flipsTop ? ' · top prediction changes' : ''} · from ${e.source === 'model' ? 'the model\u2019s predictions' : e.source === 'gradient' ? 'the gradient' : 'deletion'}`),
    ),
  );
  return h('div', { class: 'counterfactuals' },
    h('p', { class: 'hint muted' }, `Edits of single tokens or words that most lower the score of ${JSON.stringify(row?.text ?? cf.top.text)}, each verified by a forward pass (${cf.verified} tried). In the editor, the light bulb on a token applies one and explains again.`),
    h('ol', { id: 'counterfactual-list' }, ...items),
  );
}
