/**
 * Messages between the extension host and the saliency panel webview, and the validators both sides run
 * on everything they receive. The webview is treated as untrusted by the host and the host's messages are
 * checked by the webview too: a malformed message is rejected whole, never half-applied.
 */
import { parseCompareChoice, parseCompareState, type CompareState } from './compareProtocol';
import { isCounterfactualEdits } from './counterfactualText';
import type { Granularity, TargetSpec } from './request';
import { parseResult, type AttributionResult } from './result';

export const PANEL_VIEW_TYPE = 'promptscope.saliency';

export type ExportFormat = 'json' | 'csv' | 'html' | 'svg';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'csv', 'html', 'svg'];
export const GRANULARITIES: readonly Granularity[] = ['token', 'word', 'line', 'sentence'];

/**
 * Method names the panel offers for a re-run besides the ones already present in a result. The names of
 * src/core/methods/registry.ts, listed here because the webview bundle must not pull in the methods.
 */
export const PANEL_METHODS: readonly string[] = [
  'occlusion',
  'sliding-window',
  'word-occlusion',
  'coarse-to-fine',
  'gradient',
  'gradient-x-input',
  'integrated-gradients',
  'smoothgrad',
  'gradient-shap',
  'layer-gradient-x-activation',
  'layer-integrated-gradients',
  'attention',
  'attention-rollout',
  'atman',
  'shapley-sampling',
  'kernel-shap',
  'lime',
  'reagent',
  'counterfactuals',
];

/** One whole result as the panel shows it: the panel never receives partial updates. */
export interface PanelSnapshot {
  /** Document the prompt came from; absent when there is none to reveal tokens in. */
  documentUri?: string;
  /** Document offset of result.input.text's first character. */
  offset: number;
  result: AttributionResult;
}

/** What the user has chosen to look at; pure view settings. */
export interface PanelView {
  /** Method of the run shown (undefined: the result's first run). */
  method?: string;
  /** Target row shown (index into result.target.rows). */
  row: number;
  granularity: Granularity;
  /** Colour each target row against its own maximum instead of one scale for all rows. */
  rowScale?: 'per-row';
}

export interface RerunChange {
  method?: string;
  target?: TargetSpec;
  granularity?: Granularity;
  /** Explain again and read every layer through the logit lens. */
  logitLens?: true;
}

export type HostToPanel =
  | { type: 'snapshot'; snapshot: PanelSnapshot | null }
  | { type: 'status'; state: 'idle' | 'running' | 'error' | 'stale'; message?: string }
  /** Earlier runs of the shown document and the chosen comparison (null: none to compare with). */
  | { type: 'compare'; state: CompareState | null };

export type PanelToHost =
  /** Sent once the webview listens; the host posts nothing before it. */
  | { type: 'ready' }
  /** The webview finished rendering a snapshot (tests and the host use it as an acknowledgement). */
  | { type: 'rendered'; resultCreatedAt: string; tokenCount: number }
  /** Reveal [start, end) of result.input.text in the editor; tokenIndex is the first token of the chip. */
  | { type: 'reveal'; tokenIndex: number; start: number; end: number }
  | { type: 'rerun'; change: RerunChange }
  /** A stale panel (its document changed while the window was away): explain the document again. */
  | { type: 'explainAgain' }
  /** The user picked an output token: the editor tints follow that target row. */
  | { type: 'selectRow'; row: number }
  | { type: 'export'; format: ExportFormat; view: PanelView }
  /** Compare the shown result with the earlier run `run` (its createdAt), or stop comparing (null). */
  | { type: 'compareWith'; run: string | null }
  /** The webview dropped a host message that failed validation. */
  | { type: 'rejected'; reason: string };

/** What the webview keeps through getState/setState: UI state and the last snapshot, nothing else. */
export interface PanelState {
  version: 1;
  view: PanelView;
  snapshot?: PanelSnapshot;
}

export const DEFAULT_VIEW: PanelView = { row: 0, granularity: 'token' };

const MAX_TEXT = 100_000;
const MAX_NAME = 100;
const MAX_GENERATE = 1024;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max = MAX_TEXT): v is string => typeof v === 'string' && v.length <= max;
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);
const isMethodName = (v: unknown): v is string => isStr(v, MAX_NAME) && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v);
const onlyKeys = (o: Obj, keys: readonly string[]) => Object.keys(o).every((k) => keys.includes(k));

export function isGranularity(v: unknown): v is Granularity {
  return typeof v === 'string' && (GRANULARITIES as readonly string[]).includes(v);
}

export function isExportFormat(v: unknown): v is ExportFormat {
  return typeof v === 'string' && (EXPORT_FORMATS as readonly string[]).includes(v);
}

export function parseTargetSpec(v: unknown): TargetSpec | undefined {
  if (!isObj(v)) return undefined;
  switch (v.kind) {
    case 'next-token':
      return onlyKeys(v, ['kind']) ? { kind: 'next-token' } : undefined;
    case 'token': {
      if (!onlyKeys(v, ['kind', 'text', 'tokenId'])) return undefined;
      if (v.text !== undefined && !(isStr(v.text, MAX_NAME * 10) && v.text.length > 0)) return undefined;
      if (v.tokenId !== undefined && !isIndex(v.tokenId)) return undefined;
      if (v.text === undefined && v.tokenId === undefined) return undefined;
      return { kind: 'token', ...(v.text !== undefined && { text: v.text }), ...(v.tokenId !== undefined && { tokenId: v.tokenId }) };
    }
    case 'forced':
      return onlyKeys(v, ['kind', 'text']) && isStr(v.text) && v.text.length > 0 ? { kind: 'forced', text: v.text } : undefined;
    case 'generate':
      return onlyKeys(v, ['kind', 'tokens']) && isIndex(v.tokens) && v.tokens >= 1 && v.tokens <= MAX_GENERATE
        ? { kind: 'generate', tokens: v.tokens }
        : undefined;
    case 'contrastive':
      return onlyKeys(v, ['kind', 'text', 'foil']) && isStr(v.text) && isStr(v.foil) && v.text.length > 0 && v.foil.length > 0
        ? { kind: 'contrastive', text: v.text, foil: v.foil }
        : undefined;
    case 'class':
      if (!onlyKeys(v, ['kind', 'label'])) return undefined;
      if (v.label !== undefined && !isStr(v.label, MAX_NAME * 10)) return undefined;
      return v.label === undefined ? { kind: 'class' } : { kind: 'class', label: v.label };
    default:
      return undefined;
  }
}

export function parseView(v: unknown): PanelView | undefined {
  if (!isObj(v) || !onlyKeys(v, ['method', 'row', 'granularity', 'rowScale'])) return undefined;
  if (v.method !== undefined && !isMethodName(v.method)) return undefined;
  if (!isIndex(v.row) || !isGranularity(v.granularity)) return undefined;
  if (v.rowScale !== undefined && v.rowScale !== 'per-row') return undefined;
  return { ...(v.method !== undefined && { method: v.method }), row: v.row, granularity: v.granularity, ...(v.rowScale === 'per-row' && { rowScale: 'per-row' as const }) };
}

/**
 * A result deep enough checked that the panel can render it without guarding every access: parseResult's
 * shape checks plus field types of tokens, rows, predictions, runs and diagnostics.
 */
export function parseResultDeep(v: unknown): AttributionResult | undefined {
  let r: AttributionResult;
  try {
    r = parseResult(v);
  } catch {
    return undefined;
  }
  if (!isStr(r.createdAt, 100) || !isObj(r.model) || !isStr(r.model.id, 4096) || !isStr(r.input.text)) return undefined;
  const n = r.input.text.length;
  const tokensOk = r.input.tokens.every(
    (t, i) =>
      isObj(t) && t.index === i && isIndex(t.start) && isIndex(t.end) && t.start <= t.end && t.end <= n &&
      isStr(t.text) && typeof t.special === 'boolean' && typeof t.id === 'number',
  );
  if (!tokensOk) return undefined;
  if (!isObj(r.target.spec) || !isStr(r.target.spec.kind, 32)) return undefined;
  const rowsOk = r.target.rows.every(
    (row) => isObj(row) && isStr(row.text) && isNum(row.probability) && isNum(row.score) && (row.foilText === undefined || isStr(row.foilText)),
  );
  if (!rowsOk) return undefined;
  if (!Array.isArray(r.predictions) || !r.predictions.every((p) => isObj(p) && isStr(p.text) && isNum(p.probability))) return undefined;
  const runsOk = r.runs.every(
    (run) =>
      isObj(run) && isMethodName(run.method) && isStr(run.meaning) && isObj(run.diagnostics) &&
      run.scores.every((row) => row.every(isNum)) &&
      (run.diagnostics.completenessGap === undefined ||
        (Array.isArray(run.diagnostics.completenessGap) && run.diagnostics.completenessGap.every(isNum))) &&
      (run.diagnostics.relativeCompletenessGap === undefined ||
        (Array.isArray(run.diagnostics.relativeCompletenessGap) && run.diagnostics.relativeCompletenessGap.every(isNum))),
  );
  if (!runsOk) return undefined;
  if (!r.runs.every((run) => run.layerSweep === undefined || isLayerSweep(run.layerSweep, r.input.tokens.length))) return undefined;
  if (r.logitLens !== undefined && !isLogitLens(r.logitLens)) return undefined;
  if (r.counterfactuals !== undefined && !isCounterfactualEdits(r.counterfactuals, n, r.input.tokens.length)) return undefined;
  return r;
}

function isLayerSweep(v: unknown, tokens: number): boolean {
  if (!isObj(v) || !Array.isArray(v.streams) || !v.streams.every(isIndex) || !Array.isArray(v.scores)) return false;
  const depths = v.streams.length;
  return v.scores.every((row) => Array.isArray(row) && row.length === depths && row.every((s) => Array.isArray(s) && s.length === tokens && s.every(isNum)));
}

function isLogitLens(v: unknown): boolean {
  if (!isObj(v) || !isIndex(v.layers) || !Array.isArray(v.rows)) return false;
  return v.rows.every((row) => isObj(row) && isIndex(row.row) && isIndex(row.position) && Array.isArray(row.layers) && row.layers.every((l) =>
    isObj(l) && isIndex(l.layer) && isNum(l.probability) && (l.foilProbability === undefined || isNum(l.foilProbability)) &&
    Array.isArray(l.top) && l.top.every((t) => isObj(t) && isStr(t.text, 1000) && isNum(t.probability))));
}

export function parseSnapshot(v: unknown): PanelSnapshot | undefined {
  if (!isObj(v) || !onlyKeys(v, ['documentUri', 'offset', 'result'])) return undefined;
  if (v.documentUri !== undefined && !isStr(v.documentUri, 8192)) return undefined;
  if (!isIndex(v.offset)) return undefined;
  const result = parseResultDeep(v.result);
  if (!result) return undefined;
  return { ...(v.documentUri !== undefined && { documentUri: v.documentUri }), offset: v.offset, result };
}

/** Webview side: a message from the host, or undefined when it is not one. */
export function parseHostMessage(v: unknown): HostToPanel | undefined {
  if (!isObj(v)) return undefined;
  if (v.type === 'snapshot' && onlyKeys(v, ['type', 'snapshot'])) {
    if (v.snapshot === null) return { type: 'snapshot', snapshot: null };
    const snapshot = parseSnapshot(v.snapshot);
    return snapshot && { type: 'snapshot', snapshot };
  }
  if (v.type === 'status' && onlyKeys(v, ['type', 'state', 'message'])) {
    if (v.state !== 'idle' && v.state !== 'running' && v.state !== 'error' && v.state !== 'stale') return undefined;
    if (v.message !== undefined && !isStr(v.message, 2000)) return undefined;
    return { type: 'status', state: v.state, ...(v.message !== undefined && { message: v.message }) };
  }
  if (v.type === 'compare' && onlyKeys(v, ['type', 'state'])) {
    if (v.state === null) return { type: 'compare', state: null };
    const state = parseCompareState(v.state);
    return state && { type: 'compare', state };
  }
  return undefined;
}

export function parseRerunChange(v: unknown): RerunChange | undefined {
  if (!isObj(v) || !onlyKeys(v, ['method', 'target', 'granularity', 'logitLens'])) return undefined;
  const change: RerunChange = {};
  if (v.logitLens !== undefined) {
    if (v.logitLens !== true) return undefined;
    change.logitLens = true;
  }
  if (v.method !== undefined) {
    if (!isMethodName(v.method)) return undefined;
    change.method = v.method;
  }
  if (v.target !== undefined) {
    const target = parseTargetSpec(v.target);
    if (!target) return undefined;
    change.target = target;
  }
  if (v.granularity !== undefined) {
    if (!isGranularity(v.granularity)) return undefined;
    change.granularity = v.granularity;
  }
  return Object.keys(change).length > 0 ? change : undefined;
}

/** Host side: a message from the webview, or undefined when it is not one. */
export function parsePanelMessage(v: unknown): PanelToHost | undefined {
  if (!isObj(v)) return undefined;
  switch (v.type) {
    case 'ready':
      return onlyKeys(v, ['type']) ? { type: 'ready' } : undefined;
    case 'rendered':
      return onlyKeys(v, ['type', 'resultCreatedAt', 'tokenCount']) && isStr(v.resultCreatedAt, 100) && isIndex(v.tokenCount)
        ? { type: 'rendered', resultCreatedAt: v.resultCreatedAt, tokenCount: v.tokenCount }
        : undefined;
    case 'reveal':
      return onlyKeys(v, ['type', 'tokenIndex', 'start', 'end']) && isIndex(v.tokenIndex) && isIndex(v.start) && isIndex(v.end) && v.start <= v.end
        ? { type: 'reveal', tokenIndex: v.tokenIndex, start: v.start, end: v.end }
        : undefined;
    case 'explainAgain':
      return onlyKeys(v, ['type']) ? { type: 'explainAgain' } : undefined;
    case 'selectRow':
      return onlyKeys(v, ['type', 'row']) && isIndex(v.row) ? { type: 'selectRow', row: v.row } : undefined;
    case 'rerun': {
      if (!onlyKeys(v, ['type', 'change'])) return undefined;
      const change = parseRerunChange(v.change);
      return change && { type: 'rerun', change };
    }
    case 'export': {
      if (!onlyKeys(v, ['type', 'format', 'view']) || !isExportFormat(v.format)) return undefined;
      const view = parseView(v.view);
      return view && { type: 'export', format: v.format, view };
    }
    case 'compareWith': {
      const run = onlyKeys(v, ['type', 'run']) ? parseCompareChoice(v.run) : undefined;
      return run === undefined ? undefined : { type: 'compareWith', run };
    }
    case 'rejected':
      return onlyKeys(v, ['type', 'reason']) && isStr(v.reason, 2000) ? { type: 'rejected', reason: v.reason } : undefined;
    default:
      return undefined;
  }
}

/** Webview side: state saved by an earlier instance of the panel (it may predate this version). */
export function parsePanelState(v: unknown): PanelState | undefined {
  if (!isObj(v) || v.version !== 1) return undefined;
  const view = parseView(v.view);
  if (!view) return undefined;
  if (v.snapshot === undefined) return { version: 1, view };
  const snapshot = parseSnapshot(v.snapshot);
  return snapshot ? { version: 1, view, snapshot } : { version: 1, view };
}

/**
 * Host side: the document range a reveal message may select, checked against the snapshot the host
 * posted (the webview cannot point outside the prompt).
 */
export function revealRange(snapshot: PanelSnapshot, msg: { tokenIndex: number; start: number; end: number }): { start: number; end: number } | undefined {
  const { tokens, text } = snapshot.result.input;
  if (msg.tokenIndex >= tokens.length || msg.end > text.length || msg.start > msg.end) return undefined;
  return { start: snapshot.offset + msg.start, end: snapshot.offset + msg.end };
}
