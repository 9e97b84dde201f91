/**
 * Saliency panel entry. Owns the panel state (view settings + last snapshot), validates every message from
 * the host, renders whole snapshots, and persists state through the webview API so a reload restores it.
 */
import {
  DEFAULT_VIEW,
  parseHostMessage,
  parsePanelState,
  type HostToPanel,
  type PanelSnapshot,
  type PanelState,
  type PanelView,
} from '../src/core/panelProtocol';
import { createControls } from './controls';
import { formatPercent, h, section } from './dom';
import { createButton, registerToolkit } from './toolkit';
import { buildViewModel, hasContinuation, type ViewModel } from './viewModel';
import { loadState, postToHost, saveState } from './vscodeApi';
import { renderAttention } from './views/attentionView';
import type { CompareState } from '../src/core/compareProtocol';
import { renderCompare } from './views/compareView';
import { renderCounterfactuals } from './views/counterfactuals';
import { renderDiagnostics } from './views/diagnostics';
import { renderFaithfulness } from './views/faithfulness';
import { renderVariation } from './views/variation';
import { renderSelfRating } from './views/selfRating';
import { renderHeatmap } from './views/heatmap';
import { renderMatrix } from './views/matrix';
import { renderOutputRow, renderRowScaleToggle } from './views/outputRow';
import { renderPredictions } from './views/predictions';
import { renderPartialNote } from './views/partialNote';
import { renderTopTokens } from './views/topTokens';
import { renderLayerSweep } from './views/layerSweep';
import { renderLogitLens } from './views/logitLens';

registerToolkit();

let view: PanelView = { ...DEFAULT_VIEW };
let snapshot: PanelSnapshot | undefined;
let compare: CompareState | undefined;
let status: { state: 'idle' | 'running' | 'error' | 'stale'; message?: string } = { state: 'idle' };

const controls = createControls({
  showMethod(method) {
    setView({ ...view, method });
  },
  rerunMethod(method) {
    postToHost({ type: 'rerun', change: { method } });
  },
  changeGranularity(granularity) {
    // Re-aggregate here at once; the host hears of it so editor tints can follow.
    setView({ ...view, granularity });
    postToHost({ type: 'rerun', change: { granularity } });
  },
  rerunTarget(target) {
    postToHost({ type: 'rerun', change: { target } });
  },
  exportAs(format) {
    postToHost({ type: 'export', format, view });
  },
});

const statusLine = h('div', { class: 'status', id: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
const header = h('header', { class: 'header', id: 'header' });
const content = h('main', { id: 'content' });
const root = h('div', { class: 'panel' }, header, controls.element, statusLine, content);
document.body.appendChild(root);

function persist(): void {
  const state: PanelState = { version: 1, view, ...(snapshot && { snapshot }) };
  saveState(state);
}

function setView(next: PanelView): void {
  view = next;
  persist();
  render();
}

function reveal(vm: ViewModel, group: number): void {
  const g = vm.groups[group];
  if (g) postToHost({ type: 'reveal', tokenIndex: g.tokens[0], start: g.start, end: g.end });
}

function renderStatus(): void {
  statusLine.dataset.state = status.state;
  root.classList.toggle('stale', status.state === 'stale');
  if (status.state === 'stale') {
    // A result restored after a reload whose document changed: no tints, so say so and offer a new run.
    statusLine.replaceChildren(
      h('span', {}, `${status.message ?? 'This result no longer matches its document.'} `),
      createButton('Explain again', () => postToHost({ type: 'explainAgain' }), { id: 'explain-again', title: 'Explain the document’s text again' }),
    );
    return;
  }
  statusLine.textContent =
    status.state === 'running' ? 'Running the model…' : status.state === 'error' ? status.message ?? 'The re-run failed.' : '';
}

function renderHeader(vm: ViewModel): void {
  const r = vm.result;
  const rows = r.target.rows.length;
  const doc = snapshot?.documentUri;
  header.replaceChildren(
    ...(doc ? [h('span', { class: 'document', id: 'document-name', title: doc }, documentName(doc)), h('span', { class: 'muted' }, ' · ')] : []),
    h('span', { class: 'model', title: r.model.id }, r.model.id),
    h('span', { class: 'muted' }, ` · ${r.input.tokens.length} prompt tokens · ${rows} target${rows === 1 ? '' : 's'} · ${new Date(r.createdAt).toLocaleString()}`),
  );
}

/** The file name of a document URI (the untitled name for unsaved documents). */
function documentName(uri: string): string {
  const last = uri.replace(/[?#].*$/, '').split('/').filter(Boolean).at(-1) ?? uri;
  try {
    return decodeURIComponent(last.replace(/^untitled:/, ''));
  } catch {
    return last;
  }
}

function render(): void {
  renderStatus();
  if (!snapshot) {
    root.classList.add('empty');
    header.replaceChildren();
    content.replaceChildren(
      h('div', { class: 'empty-state', id: 'empty-state' },
        h('p', {}, 'No attribution to show yet.'),
        h('p', { class: 'muted' }, 'Select text and run Promptscope: Explain Selection')),
    );
    return;
  }
  root.classList.remove('empty');
  const vm = buildViewModel(snapshot.result, view);
  const onReveal = (g: number) => reveal(vm, g);
  const onSelectRow = (row: number) => {
    setView({ ...view, row });
    postToHost({ type: 'selectRow', row });
  };
  renderHeader(vm);
  const target = vm.targetRow;
  const explaining = target
    ? h('p', { class: 'explaining' }, 'Explaining ', h('code', { class: 'token-text' }, JSON.stringify(target.text)),
      target.foilText !== undefined ? ' rather than ' : '', target.foilText !== undefined ? h('code', { class: 'token-text' }, JSON.stringify(target.foilText)) : undefined,
      Number.isFinite(target.probability) ? h('span', { class: 'muted' }, ` · p = ${formatPercent(target.probability)}`) : undefined)
    : h('p', { class: 'muted' }, 'This result has no target rows.');
  const parts: HTMLElement[] = [];
  const partialNote = renderPartialNote(vm.result);
  if (partialNote) parts.push(partialNote);
  if (hasContinuation(vm.result)) {
    parts.push(section('Output tokens', 'outputs-section', h('p', { class: 'hint muted' }, 'Click a token to see its attribution over the prompt (the editor tints follow).'), renderOutputRow(vm, onSelectRow),
      renderRowScaleToggle(view.rowScale === 'per-row', (perRow) => setView({ ...view, rowScale: perRow ? 'per-row' : undefined }))));
  }
  parts.push(section('Prompt', 'prompt-section', explaining, renderHeatmap(vm, onReveal)));
  const comparison = compare?.current === vm.result.createdAt ? renderCompare(compare, (run) => postToHost({ type: 'compareWith', run }), (i) => {
    const t = vm.result.input.tokens[i];
    if (t) postToHost({ type: 'reveal', tokenIndex: i, start: t.start, end: t.end });
  }) : undefined;
  if (comparison) parts.push(comparison);
  if (vm.result.target.rows.length > 1) parts.push(section('Source × target', 'matrix-section', renderMatrix(vm, onSelectRow)));
  const attention = vm.run && renderAttention(vm.result, vm.run, vm.row, render);
  if (attention) parts.push(section('Attention', 'attention-section', attention));
  // What the model said and which tokens mattered most come before the fine print, so that a narrow panel
  // shows them without scrolling.
  parts.push(
    h('div', { class: 'columns' },
      section('Top tokens', 'top-section', renderTopTokens(vm, onReveal)),
      section('Model’s next token', 'predictions-section', renderPredictions(vm))),
  );
  const ownRating = renderSelfRating(vm);
  if (ownRating) parts.push(section('The model’s own ratings', 'self-rating-section', ownRating));
  const sweep = renderLayerSweep(vm, () => postToHost({ type: 'rerun', change: { method: 'layer-gradient-x-activation' } }));
  if (sweep) parts.push(section('Inside the layers', 'layers-section', sweep));
  const lens = renderLogitLens(vm, () => postToHost({ type: 'rerun', change: { logitLens: true } }));
  if (lens) parts.push(section('Logit lens', 'logit-lens-section', lens));
  const variation = renderVariation(vm);
  if (variation) parts.push(section('Across variants', 'variation-section', variation));
  const faithfulness = renderFaithfulness(vm);
  if (faithfulness) parts.push(section('Faithfulness', 'faithfulness-section', faithfulness));
  const edits = renderCounterfactuals(vm);
  if (edits) parts.push(section('Counterfactual edits', 'counterfactuals-section', edits));
  parts.push(section('About these numbers', 'diagnostics-section', renderDiagnostics(vm)));
  content.replaceChildren(...parts);
}

function acceptSnapshot(next: PanelSnapshot | null): void {
  const previous = snapshot?.result.createdAt;
  snapshot = next ?? undefined;
  if (snapshot) {
    // A new result starts at its first output; the method and granularity choices carry over.
    if (snapshot.result.createdAt !== previous) view = { ...view, row: 0 };
    if (view.method && !snapshot.result.runs.some((r) => r.method === view.method)) view = { ...view, method: snapshot.result.runs[0]?.method };
    // Partial results of one run share its createdAt: later ones must not reset a target being edited.
    controls.update(snapshot.result, view, snapshot.result.createdAt === previous);
  }
  status = { state: 'idle' };
  persist();
  render();
  if (snapshot) postToHost({ type: 'rendered', resultCreatedAt: snapshot.result.createdAt, tokenCount: snapshot.result.input.tokens.length });
}

function onHostMessage(msg: HostToPanel): void {
  if (msg.type === 'snapshot') acceptSnapshot(msg.snapshot);
  else if (msg.type === 'compare') {
    compare = msg.state ?? undefined;
    render();
  } else {
    status = { state: msg.state, ...(msg.message !== undefined && { message: msg.message }) };
    renderStatus();
  }
}

window.addEventListener('message', (event: MessageEvent) => {
  const msg = parseHostMessage(event.data);
  if (!msg) {
    const type = typeof event.data === 'object' && event.data !== null ? String((event.data as { type?: unknown }).type) : typeof event.data;
    postToHost({ type: 'rejected', reason: `malformed message (type ${type.slice(0, 40)})` });
    return;
  }
  onHostMessage(msg);
});

// Handshake first, so the host never posts into a webview that is not listening yet.
postToHost({ type: 'ready' });

// Restore what the previous instance of the panel showed (after a reload or when the tab was hidden).
const restored = parsePanelState(loadState());
if (restored) {
  view = restored.view;
  snapshot = restored.snapshot;
  if (snapshot) controls.update(snapshot.result, view);
}
render();
