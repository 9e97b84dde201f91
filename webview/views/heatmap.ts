/** The prompt as token chips tinted by score; clicking a chip reveals its text in the editor. */
import { scoreRgba } from '../../src/core/colourScale';
import { clickable, formatPercent, formatScore, h } from '../dom';
import { boundaryInsideShapedWord } from '../../src/core/tintRanges';
import { appendTokenText } from '../tokenText';
import type { ViewModel } from '../viewModel';

export function chipTitle(text: string, score: number, totalAbs: number, tokenCount: number): string {
  const share = totalAbs > 0 ? ` (${formatPercent(Math.abs(score) / totalAbs)} of the total |score|)` : '';
  return `${JSON.stringify(text)}\nscore ${formatScore(score)}${share}` + (tokenCount > 1 ? `\n${tokenCount} tokens` : '');
}

/** Background colour as a CSSOM property: allowed under the CSP, unlike style attributes. */
export function tint(el: HTMLElement, score: number, maxAbs: number): void {
  el.style.setProperty('--chip-bg', scoreRgba(score, maxAbs));
  el.dataset.sign = score > 0 ? 'pos' : score < 0 ? 'neg' : 'zero';
  // The strongest tints need a text colour chosen for the tint rather than the theme (see panel.css);
  // 0.8 is about where the contrast of the theme's text colour on the tint drops below the alternative.
  el.dataset.strong = String(maxAbs > 0 && Math.abs(score) / maxAbs >= 0.8);
}

export function renderHeatmap(vm: ViewModel, onReveal: (group: number) => void): HTMLElement {
  const prompt = h('div', { class: 'heatmap', attrs: { 'aria-label': 'Prompt tokens by attribution' } });
  vm.groups.forEach((g, i) => {
    // Text between units (the spaces a WordPiece tokenizer drops) comes from the input itself.
    const gap = i > 0 ? vm.result.input.text.slice(vm.groups[i - 1].end, g.start) : '';
    if (gap) prompt.appendChild(h('span', { class: 'gap' }, gap));
    const chip = h('span', { class: 'chip', title: chipTitle(g.text, vm.scores[i], vm.totalAbs, g.tokens.length) });
    chip.dataset.index = String(i);
    chip.dataset.start = String(g.start);
    chip.dataset.end = String(g.end);
    appendTokenText(chip, g.text);
    // Inside a word of a joining or right-to-left script the chips touch (no margin), so that the browser
    // still shapes the word across them and its letters keep their joined forms.
    const next = vm.groups[i + 1];
    if (next && boundaryInsideShapedWord(vm.result.input.text, g.end, next.start)) chip.dataset.joins = 'next';
    if (i > 0 && boundaryInsideShapedWord(vm.result.input.text, vm.groups[i - 1].end, g.start)) chip.dataset.joined = 'prev';
    tint(chip, vm.scores[i], vm.maxAbs);
    clickable(chip, () => onReveal(i), `${g.text}, score ${formatScore(vm.scores[i])}`);
    prompt.appendChild(chip);
  });
  // Chat explanations: the template's tokens (role markers, system prompt) are input too, shown around the
  // prompt as chips of their own; they have no place in the document, so they are not clickable.
  const template = vm.result.input.tokens.filter((t) => t.template);
  if (template.length) {
    const firstUser = vm.result.input.tokens.find((t) => !t.special)?.index ?? Infinity;
    const scores = vm.run?.scores[vm.row];
    const chipOf = (t: (typeof template)[number]) => {
      const score = scores?.[t.index] ?? 0;
      const chip = h('span', { class: 'chip template', title: `chat template: ${chipTitle(t.text, score, vm.totalAbs, 1)}` });
      appendTokenText(chip, t.text);
      tint(chip, score, vm.maxAbs);
      return chip;
    };
    const before = template.filter((t) => t.index < firstUser).map(chipOf);
    const after = template.filter((t) => t.index > firstUser).map(chipOf);
    prompt.prepend(...before);
    prompt.append(...after);
  }
  if (vm.result.input.truncatedAt !== undefined) {
    prompt.prepend(h('span', { class: 'truncated', title: 'The prompt was too long; only its end was explained.' }, '… '));
  }
  return h('div', {}, prompt, renderLegend(vm.maxAbs));
}

export function renderLegend(maxAbs: number): HTMLElement {
  const swatch = (score: number) => {
    const s = h('span', { class: 'swatch' });
    s.style.setProperty('--chip-bg', scoreRgba(score, 1));
    return s;
  };
  const steps = [-1, -0.5, -0.2, 0.2, 0.5, 1];
  return h('div', { class: 'legend' },
    h('span', {}, `lowers target ${formatScore(-maxAbs)}`),
    h('span', { class: 'swatches' }, ...steps.map(swatch)),
    h('span', {}, `${formatScore(maxAbs)} raises target`),
  );
}
