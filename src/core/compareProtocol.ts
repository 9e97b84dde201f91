/**
 * Comparing a document's current result with one of its earlier runs in the panel: the summaries the
 * "Compare with…" control lists, the comparison the host computes (runDiff) and posts, and the validators
 * the webview and the host run on these messages.
 */
import type { AttributionResult } from './result';
import type { AlignmentKind, RunDiff, TokenChange } from './runDiff';

/** One earlier run as the "Compare with…" control lists it. */
export interface RunSummary {
  /** The result's createdAt: it identifies the run. */
  id: string;
  methods: string[];
  /** What was explained: the first target row's text (e.g. " Paris"), and the target kind. */
  target: string;
  targetKind: string;
  probability: number;
  /** The start of the explained prompt (the panel shows it to tell runs apart). */
  promptStart: string;
  tokens: number;
}

/** What the host posts about comparisons: the earlier runs, and the comparison chosen (if any). */
export interface CompareState {
  /** createdAt of the result the panel shows; a state for another result is ignored. */
  current: string;
  /** Earlier runs of the same document, newest first. */
  earlier: RunSummary[];
  /** The chosen comparison: from `with` (the earlier run) to the current result. */
  comparison?: { with: string; diff: RunDiff };
}

const PROMPT_START_CHARS = 60;

export function summariseRun(r: AttributionResult): RunSummary {
  const row = r.target.rows[0];
  const text = r.input.text;
  return {
    id: r.createdAt,
    methods: r.runs.map((m) => m.method),
    target: row?.text ?? '',
    targetKind: r.target.spec.kind,
    probability: row?.probability ?? NaN,
    promptStart: text.length > PROMPT_START_CHARS ? text.slice(0, PROMPT_START_CHARS - 1) + '…' : text,
    tokens: r.input.tokens.filter((t) => !t.special).length,
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max = 100_000): v is string => typeof v === 'string' && v.length <= max;
const isNum = (v: unknown): v is number => typeof v === 'number';
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const KINDS: readonly AlignmentKind[] = ['kept', 'inserted', 'deleted', 'moved'];
const MAX_RUNS = 100;
const MAX_TOKENS = 200_000;

function isSummary(v: unknown): v is RunSummary {
  return (
    isObj(v) && isStr(v.id, 100) && Array.isArray(v.methods) && v.methods.length <= 64 && v.methods.every((m) => isStr(m, 100)) &&
    isStr(v.target, 10_000) && isStr(v.targetKind, 32) && isNum(v.probability) && isStr(v.promptStart, 200) && isIndex(v.tokens)
  );
}

function isTokenChange(v: unknown): v is TokenChange {
  if (!isObj(v) || !(KINDS as readonly unknown[]).includes(v.kind) || !isStr(v.text, 10_000)) return false;
  if (v.a !== undefined && !isIndex(v.a)) return false;
  if (v.b !== undefined && !isIndex(v.b)) return false;
  for (const k of ['scoreA', 'scoreB', 'delta'] as const) if (v[k] !== undefined && !isNum(v[k])) return false;
  // Each kind has the indices it needs: kept and moved tokens exist in both prompts.
  if (v.kind === 'inserted') return v.b !== undefined;
  if (v.kind === 'deleted') return v.a !== undefined;
  return v.a !== undefined && v.b !== undefined;
}

function isRunDiff(v: unknown): v is RunDiff {
  if (!isObj(v) || !isObj(v.method) || !isStr(v.method.a, 100) || !isStr(v.method.b, 100)) return false;
  const p = v.prediction;
  if (!isObj(p) || !isStr(p.text, 10_000) || !isNum(p.tokenId) || !isNum(p.before) || (p.after !== undefined && !isNum(p.after))) return false;
  if (!isObj(p.top) || !isStr(p.top.text, 10_000) || !isNum(p.top.probability)) return false;
  if (!Array.isArray(v.tokens) || v.tokens.length > MAX_TOKENS || !v.tokens.every(isTokenChange)) return false;
  return isObj(v.counts) && KINDS.every((k) => isIndex((v.counts as Obj)[k]));
}

/** Webview side: a compare state from the host, or undefined when it is malformed. */
export function parseCompareState(v: unknown): CompareState | undefined {
  if (!isObj(v) || !isStr(v.current, 100) || !Array.isArray(v.earlier) || v.earlier.length > MAX_RUNS || !v.earlier.every(isSummary)) return undefined;
  if (v.comparison === undefined) return { current: v.current, earlier: v.earlier };
  const c = v.comparison;
  if (!isObj(c) || !isStr(c.with, 100) || !isRunDiff(c.diff)) return undefined;
  return { current: v.current, earlier: v.earlier, comparison: { with: c.with, diff: c.diff } };
}

/** Host side: the run id a "compare with" message names (null: stop comparing), or undefined if malformed. */
export function parseCompareChoice(v: unknown): string | null | undefined {
  return v === null ? null : isStr(v, 100) && v.length > 0 ? v : undefined;
}
