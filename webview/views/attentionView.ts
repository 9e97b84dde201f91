/**
 * Attention view for the attention methods (bertviz's model view as the anchor): a layer × head grid of small
 * attention maps, one more tile per layer for the mean over its heads and one for the mean of everything;
 * clicking a tile shows its token → token matrix (query rows, key columns) below, with a hover readout.
 * Maps are drawn on canvases: no markup is built from token text.
 */
import { SCALE_ENDS } from '../../src/core/colourScale';
import { showMarks } from '../../src/core/viewUnits';
import type { AttentionDetail, AttributionResult, MethodRun } from '../../src/core/result';
import { clickable, h } from '../dom';

const visible = (t: string) => showMarks(t).replace(/\r?\n/g, '↵').replace(/\t/g, '→').replace(/ /g, '·');

type Pick = { layer: number | 'mean'; head: number | 'mean' };

/** The chosen tile per result and method; survives re-renders of the same result. */
let chosen: { key: string; pick: Pick } | undefined;

function mapOf(d: AttentionDetail, p: Pick): number[][] {
  const ls = p.layer === 'mean' ? [...Array(d.layers).keys()] : [p.layer];
  const hs = p.head === 'mean' ? [...Array(d.heads).keys()] : [p.head];
  const S = d.probs[0][0].length;
  const out = Array.from({ length: S }, () => new Array<number>(S).fill(0));
  for (const l of ls) for (const hd of hs) d.probs[l][hd].forEach((row, q) => row.forEach((v, k) => (out[q][k] += v / (ls.length * hs.length))));
  return out;
}

/** One pixel per (query, key), alpha = probability; CSS scales it up to `cell` pixels per cell. */
function draw(canvas: HTMLCanvasElement, m: number[][], cell: number): void {
  const S = m.length;
  canvas.width = S;
  canvas.height = S;
  canvas.style.width = `${S * cell}px`;
  canvas.style.height = `${S * cell}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx || S === 0) return;
  const img = ctx.createImageData(S, S);
  const { r, g, b } = SCALE_ENDS.pos;
  for (let q = 0; q < S; q++) for (let k = 0; k < S; k++) {
    const o = (q * S + k) * 4;
    img.data[o] = r;
    img.data[o + 1] = g;
    img.data[o + 2] = b;
    img.data[o + 3] = Math.round(Math.min(1, Math.max(0, m[q][k])) * 255);
  }
  ctx.putImageData(img, 0, 0);
}

const pickName = (p: Pick): string =>
  p.layer === 'mean' && p.head === 'mean' ? 'mean over all layers and heads' : p.head === 'mean' ? `layer ${p.layer}, mean over heads` : `layer ${p.layer}, head ${p.head}`;

export function renderAttention(result: AttributionResult, run: MethodRun, row: number, onChange: () => void): HTMLElement | undefined {
  const d = run.attention;
  if (!d || d.layers === 0) return undefined;
  const key = `${result.createdAt}/${run.method}`;
  if (chosen?.key !== key) {
    const layer = typeof run.params.layer === 'number' ? run.params.layer : 'mean';
    const head = typeof run.params.head === 'number' ? run.params.head : 'mean';
    chosen = { key, pick: { layer, head: layer === 'mean' ? 'mean' : head } };
  }
  const pick = chosen.pick;
  const labels = [...result.input.tokens.map((t) => t.text), ...d.continuation];
  const query = d.rowQueries[row] ?? d.rowQueries[0];
  const select = (p: Pick) => {
    chosen = { key, pick: p };
    onChange();
  };

  // The grid: a header row of head numbers, then per layer its heads and its head mean.
  const grid = h('div', { class: 'attention-grid', attrs: { role: 'grid', 'aria-label': 'Attention maps by layer and head' } });
  grid.style.setProperty('--heads', String(d.heads + 1));
  grid.appendChild(h('span', { class: 'corner' }, 'layer ↓ head →'));
  for (let hd = 0; hd < d.heads; hd++) grid.appendChild(h('span', { class: 'head-label' }, String(hd)));
  grid.appendChild(h('span', { class: 'head-label' }, 'mean'));
  const tile = (p: Pick): HTMLElement => {
    const c = h('canvas', { class: 'attention-tile' });
    const m = mapOf(d, p);
    draw(c, m, 48 / m.length);
    const selected = p.layer === pick.layer && p.head === pick.head;
    const el = clickable(h('span', { class: 'tile' + (selected ? ' selected' : ''), title: pickName(p) }, c), () => select(p), pickName(p));
    el.dataset.layer = String(p.layer);
    el.dataset.head = String(p.head);
    return el;
  };
  for (let l = 0; l < d.layers; l++) {
    grid.appendChild(h('span', { class: 'row-label' }, String(l)));
    for (let hd = 0; hd < d.heads; hd++) grid.appendChild(tile({ layer: l, head: hd }));
    grid.appendChild(tile({ layer: l, head: 'mean' }));
  }
  const all = h('div', { class: 'attention-all' }, h('span', { class: 'muted' }, 'all layers: '), tile({ layer: 'mean', head: 'mean' }));

  // The chosen map, large, with a readout of the cell under the pointer.
  const m = mapOf(d, pick);
  const S = m.length;
  const cell = Math.max(3, Math.min(18, Math.floor(480 / S)));
  const big = h('canvas', { class: 'attention-matrix', attrs: { 'aria-label': `Attention matrix, ${pickName(pick)}` } });
  draw(big, m, cell);
  // The row of the position predicting the selected target, outlined over the canvas.
  const mark = h('span', { class: 'attention-query' });
  mark.style.top = `${query * cell}px`;
  mark.style.height = `${cell}px`;
  mark.style.width = `${S * cell}px`;
  const canvasBox = h('div', { class: 'attention-canvas' }, big, query >= 0 && query < S ? mark : undefined);
  const readout = h('div', { class: 'attention-readout muted', id: 'attention-readout' }, `Rows: the position reading (query); columns: the token read (key). Outlined: the position predicting the selected target.`);
  big.addEventListener('mousemove', (e) => {
    const rect = big.getBoundingClientRect();
    const k = Math.floor(((e.clientX - rect.left) / rect.width) * S), q = Math.floor(((e.clientY - rect.top) / rect.height) * S);
    if (q < 0 || k < 0 || q >= S || k >= S) return;
    readout.textContent = `${JSON.stringify(labels[q] ?? '')} (${q}) → ${JSON.stringify(labels[k] ?? '')} (${k}): ${m[q][k].toFixed(4)}`;
  });
  // Token labels along both axes when the cells are tall enough to read them.
  const matrix = h('div', { class: 'attention-matrix-wrap' });
  matrix.style.setProperty('--cell', `${cell}px`);
  if (cell >= 10) {
    const label = (t: string, i: number) => h('span', { class: i === query ? 'selected' : undefined, title: `${JSON.stringify(t)} (${i})` }, visible(t));
    matrix.append(h('span', {}), h('div', { class: 'attention-cols' }, ...labels.map(label)), h('div', { class: 'attention-rows' }, ...labels.map(label)), canvasBox);
  } else {
    matrix.append(canvasBox);
  }
  return h('div', { class: 'attention-view', id: 'attention-view' },
    h('p', { class: 'hint muted' }, 'Attention shows where the model looks, not what changes its answer. Click a map to inspect it.'),
    h('div', { class: 'attention-scroll' }, grid), all,
    h('h3', { id: 'attention-choice' }, pickName(pick)),
    h('div', { class: 'attention-scroll' }, matrix), readout);
}
