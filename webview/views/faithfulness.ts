/**
 * How faithful each method's ranking is: a small deletion curve per method (the target score as its top
 * tokens are removed, 0 … 100 %) over the random order's curve (dashed), AOPC figures against random,
 * Soft-NC / Soft-NS, and the agreement between methods. Drawn from result.trust alone.
 */
import { drawableTrust, type RowFaithfulness, type TrustReport } from '../../src/core/trust/trustReport';
import { h } from '../dom';
import type { ViewModel } from '../viewModel';

const SVG = 'http://www.w3.org/2000/svg';
const W = 132, H = 64, PAD = 4;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

const minus = (s: string): string => s.replace('-', '−');
const fmt = (x: number): string => minus(x.toFixed(Math.abs(x) >= 10 ? 1 : 2));
const times = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${x.toFixed(1)}×`);

function curve(t: TrustReport, method: RowFaithfulness, random: RowFaithfulness, label: string): SVGSVGElement {
  const xs = [0, ...t.fractions];
  const all = [...method.deletion, ...random.deletion].filter(Number.isFinite);
  const lo = Math.min(...all), hi = Math.max(...all);
  const span = hi - lo || 1;
  const px = (i: number): number => PAD + (xs[i] * (W - 2 * PAD));
  const py = (v: number): number => PAD + ((hi - v) / span) * (H - 2 * PAD);
  const path = (r: RowFaithfulness): string => r.deletion.map((v, i) => `${i ? 'L' : 'M'}${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
  const el = svg('svg', { class: 'deletion-curve', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img' });
  el.setAttribute('aria-label', label);
  el.appendChild(svg('rect', { class: 'frame', x: 0.5, y: 0.5, width: W - 1, height: H - 1, fill: 'none' }));
  el.appendChild(svg('path', { class: 'random', d: path(random), fill: 'none', 'stroke-dasharray': '3 2' }));
  el.appendChild(svg('path', { class: 'method', d: path(method), fill: 'none' }));
  return el;
}

export function renderFaithfulness(vm: ViewModel): HTMLElement | undefined {
  const t = drawableTrust(vm.result.trust);
  if (!t) return undefined;
  const row = Math.min(vm.row, t.random.rows.length - 1);
  const random = t.random.rows[row];
  if (!random) return undefined;
  const cards = t.methods.flatMap((m) => {
    const r = m.rows[row];
    if (!r) return [];
    const vs = m.vsRandom[row] ?? { comprehensiveness: null, sufficiency: null };
    const label = `${m.method}: deletion curve of the target score, ${fmt(r.deletion[0])} with the full prompt to ${fmt(r.deletion[r.deletion.length - 1])} with every token removed; random order dashed`;
    return [h('div', { class: `faith-card${m.method === vm.run?.method ? ' current' : ''}`, attrs: { 'data-method': m.method } },
      h('div', { class: 'faith-name' }, m.method),
      curve(t, r, random, label),
      h('div', { class: 'faith-figures muted' },
        `compr. ${fmt(r.aopcComprehensiveness)} (${times(vs.comprehensiveness)} random) · suff. ${fmt(r.aopcSufficiency)} (${times(vs.sufficiency)})`,
        m.soft ? ` · Soft-NC ${fmt(m.soft.softNC)} (${times(m.soft.vsRandom.softNC)}) · Soft-NS ${fmt(m.soft.softNS)} (${times(m.soft.vsRandom.softNS)})` : ''))];
  });
  const agreement = t.agreement.length
    ? h('p', { class: 'faith-agreement muted', id: 'faith-agreement' },
      `Agreement (Spearman ρ; top-${t.agreement[0].k} overlap): `,
      t.agreement.map((a) => `${a.a} ~ ${a.b} ρ ${a.spearman === null ? '—' : minus(a.spearman.toFixed(2))}, ${Math.round(a.topKOverlap * 100)} %`).join(' · '))
    : undefined;
  return h('div', { class: 'faithfulness', id: 'faithfulness' },
    h('p', { class: 'hint muted' }, `Target score as each method's top tokens are removed (solid) against random orders (dashed): a faithful ranking falls faster. Random: compr. ${fmt(random.aopcComprehensiveness)}, suff. ${fmt(random.aopcSufficiency)}. ${t.soft.available ? '' : `Soft-NC / Soft-NS not computed: ${t.soft.reason}`}`),
    h('div', { class: 'faith-cards' }, ...cards),
    agreement,
    h('p', { class: 'faith-measure muted' }, t.measure, `. ${t.forwardPasses} forward passes, ${Math.round(t.elapsedMs)} ms.`));
}
