/**
 * Counterfactual edits as the views show them (CLI, hover, panel, code action) and the check a view applies
 * before trusting the field: one wording everywhere, e.g. "Replace 'France' with 'Japan' → ' Tokyo' (61 %)".
 */
import type { CounterfactualEdit, CounterfactualEdits } from './result';

/** Quotes a piece of prompt text so its spaces stay visible. */
function quoted(s: string): string {
  return `'${s.replace(/\n/g, '\\n')}'`;
}

export function percent(p: number): string {
  const v = 100 * p;
  return `${v >= 10 || v === 0 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(1)} %`;
}

/** What the edit does, in words: "Replace 'France' with 'Japan'" or "Delete ' not'". */
export function editAction(e: CounterfactualEdit): string {
  return e.kind === 'delete' ? `Delete ${quoted(e.original)}` : `Replace ${quoted(e.original.trim() || e.original)} with ${quoted(e.replacement.trim() || e.replacement)}`;
}

/** The edit and its verified outcome: "Replace 'France' with 'Japan' → ' Tokyo' (61 %)". */
export function editTitle(e: CounterfactualEdit): string {
  return `${editAction(e)} → ${quoted(e.newTop.text)} (${percent(e.newTop.probability)})`;
}

/** One line with the score change, for lists. */
export function editLine(e: CounterfactualEdit): string {
  const d = e.delta;
  return `${editTitle(e)}; target score ${d >= 0 ? '+' : '\u2212'}${Math.abs(d).toFixed(2)}${e.flipsTop ? ', top prediction changes' : ''}`;
}

/** Edits that touch a token, best first. */
export function editsOfToken(cf: CounterfactualEdits, token: number): CounterfactualEdit[] {
  return cf.edits.filter((e) => e.tokens.includes(token)).sort((a, b) => a.delta - b.delta);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown, max = 10_000): v is string => typeof v === 'string' && v.length <= max;

/** Whether a value is a well-formed counterfactual field for a prompt of this length and token count. */
export function isCounterfactualEdits(v: unknown, textLength: number, tokens: number): v is CounterfactualEdits {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Partial<CounterfactualEdits>;
  if (c.version !== 1 || !isNum(c.row) || !isNum(c.verified) || !Array.isArray(c.edits) || c.edits.length > 1000) return false;
  if (typeof c.top !== 'object' || c.top === null || !isStr(c.top.text) || !isNum(c.top.probability)) return false;
  return c.edits.every((e: Partial<CounterfactualEdit>) =>
    typeof e === 'object' && e !== null &&
    (e.kind === 'replace' || e.kind === 'delete') && (e.unit === 'token' || e.unit === 'word') &&
    Array.isArray(e.tokens) && e.tokens.length > 0 && e.tokens.every((t) => Number.isInteger(t) && t >= 0 && t < tokens) &&
    Number.isInteger(e.start) && Number.isInteger(e.end) && 0 <= e.start! && e.start! <= e.end! && e.end! <= textLength &&
    isStr(e.original) && isStr(e.replacement) && isNum(e.delta) && isNum(e.scoreAfter) && isNum(e.scoreBefore) &&
    typeof e.newTop === 'object' && e.newTop !== null && isStr(e.newTop.text) && isNum(e.newTop.probability) && typeof e.flipsTop === 'boolean',
  );
}
