/**
 * Spread of the shown method's attributions across variants (result.variation): one bar per token at the
 * mean with an error bar of ± one standard deviation, tokens whose sign is not stable marked, and the
 * signal, noise and SNR of the whole result.
 */
import { h } from '../dom';
import type { ViewModel } from '../viewModel';
import { showMarks } from '../../src/core/viewUnits';
import { appendTokenText } from '../tokenText';

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

const fmt = (x: number): string => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(3);

export function renderVariation(vm: ViewModel): HTMLElement | undefined {
  const v = vm.result.variation;
  const method = vm.run?.method;
  const m = v && Array.isArray(v.methods) ? v.methods.find((x) => x && x.method === method) : undefined;
  const r = m?.rows?.[vm.row];
  if (!v || !r || !Array.isArray(r.mean) || !Array.isArray(r.sd) || !Array.isArray(r.stableSign)) return undefined;
  const tokens = vm.result.input.tokens.filter((t) => !t.special && t.end > t.start && Number.isFinite(r.mean[t.index]) && Number.isFinite(r.sd[t.index]));
  if (!tokens.length) return undefined;
  const bw = 28, gap = 6, H = 120, top = 8, bottom = 8;
  const hi = Math.max(...tokens.map((t) => Math.max(0, r.mean[t.index] + r.sd[t.index])));
  const lo = Math.min(...tokens.map((t) => Math.min(0, r.mean[t.index] - r.sd[t.index])));
  const span = hi - lo || 1;
  const y = (x: number): number => top + ((hi - x) / span) * (H - top - bottom);
  const W = tokens.length * (bw + gap) + gap;
  const chart = svg('svg', { class: 'variation-chart', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img' });
  chart.setAttribute('aria-label', `mean attribution per token with ± one standard deviation over ${v.variants.length} variants`);
  chart.appendChild(svg('line', { class: 'axis', x1: 0, x2: W, y1: y(0), y2: y(0) }));
  tokens.forEach((t, i) => {
    const x = gap + i * (bw + gap);
    const mean = r.mean[t.index], sd = r.sd[t.index];
    const stable = r.stableSign[t.index] === true;
    const bar = svg('rect', { class: `bar ${mean >= 0 ? 'positive' : 'negative'}${stable ? '' : ' unstable'}`, x, width: bw, y: Math.min(y(mean), y(0)), height: Math.max(1, Math.abs(y(mean) - y(0))) });
    const title = svg('title', {});
    title.textContent = `${JSON.stringify(showMarks(t.text))}: ${fmt(mean)} ± ${sd.toFixed(3)}${stable ? '' : ' — sign not stable'}`;
    bar.appendChild(title);
    chart.appendChild(bar);
    const cx = x + bw / 2;
    chart.appendChild(svg('line', { class: 'error-bar', x1: cx, x2: cx, y1: y(mean + sd), y2: y(mean - sd) }));
    for (const e of [mean + sd, mean - sd]) chart.appendChild(svg('line', { class: 'error-bar', x1: cx - 5, x2: cx + 5, y1: y(e), y2: y(e) }));
  });
  const labels = h('div', { class: 'variation-labels' },
    ...tokens.map((t) => {
      const span = h('span', { class: `variation-label token-text${r.stableSign[t.index] ? '' : ' unstable'}`, title: `${fmt(r.mean[t.index])} ± ${r.sd[t.index].toFixed(3)}` });
      appendTokenText(span, t.text);
      return span;
    }));
  const unstable = tokens.filter((t) => !r.stableSign[t.index]).length;
  return h('div', { class: 'variation', id: 'variation' },
    h('p', { class: 'hint muted' }, `${v.measure}. Bars: mean; whiskers: ± one standard deviation; dotted: the sign is not the same in every variant (${unstable} of ${tokens.length} tokens).`),
    h('div', { class: 'variation-scroll' }, chart, labels),
    h('p', { class: 'variation-figures', id: 'variation-figures' },
      `signal ${Number(r.signal).toPrecision(3)} · noise ${Number(r.noise).toPrecision(3)} · SNR ${r.snr === null ? '∞ (no noise)' : Number(r.snr).toPrecision(3)} over ${v.variants.length} variants: ${v.variants.map((x) => x.split('/').pop()).join(', ')}`));
}
