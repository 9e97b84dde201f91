/**
 * Aggregation of token scores into words, lines and sentences by character offsets. Special tokens (zero
 * width) never join a group; each group keeps the token indices it covers so views can map back.
 */
import type { Granularity } from './request';
import type { ResultToken } from './result';

export type Reducer = 'sum' | 'mean' | 'max-abs';

export interface Group {
  /** Token indices in this group, in order. */
  tokens: number[];
  start: number;
  end: number;
  text: string;
}

/** Groups of tokens at a granularity. Tokens at 'token' granularity are each their own group. */
export function groupTokens(text: string, tokens: readonly ResultToken[], granularity: Granularity): Group[] {
  const groups: Group[] = [];
  let current: Group | undefined;
  let currentKey = -1;
  const keyOf = unitKeys(text, granularity);
  for (const t of tokens) {
    if (t.special || t.end <= t.start) continue;
    // A token belongs to the unit of its first non-space character (leading spaces are separators). A token
    // of only whitespace joins the next word, but ends its own line or sentence.
    let anchor = t.start;
    const last = granularity === 'word' ? t.end : t.end - 1;
    while (anchor < last && /\s/.test(text[anchor])) anchor++;
    const key = granularity === 'token' ? t.index : keyOf(anchor);
    if (!current || key !== currentKey) {
      current = { tokens: [], start: t.start, end: t.end, text: '' };
      groups.push(current);
      currentKey = key;
    }
    current.tokens.push(t.index);
    current.end = t.end;
  }
  for (const g of groups) g.text = text.slice(g.start, g.end);
  return groups;
}

/** Reduce one score row over groups. */
export function aggregateScores(scores: readonly number[], groups: readonly Group[], reducer: Reducer): number[] {
  return groups.map((g) => {
    const vals = g.tokens.map((i) => scores[i]);
    if (reducer === 'sum') return vals.reduce((a, b) => a + b, 0);
    if (reducer === 'mean') return vals.reduce((a, b) => a + b, 0) / vals.length;
    return vals.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
  });
}

/** Scores divided by the sum of absolute scores: each value is a signed share of the total. */
export function normalise(scores: readonly number[]): number[] {
  const total = scores.reduce((a, b) => a + Math.abs(b), 0);
  return total > 0 ? scores.map((s) => s / total) : scores.map(() => 0);
}

/** A function from character index to the id of the word / line / sentence that contains it. */
function unitKeys(text: string, granularity: Granularity): (i: number) => number {
  const ids = new Int32Array(text.length + 1);
  let id = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const prev = i > 0 ? text[i - 1] : '';
    if (granularity === 'word') {
      // New word after whitespace or at a change between word characters and punctuation.
      if (i > 0 && (/\s/.test(prev) !== /\s/.test(ch) || (isWordChar(prev) !== isWordChar(ch) && !/\s/.test(ch)))) id++;
    } else if (granularity === 'line') {
      if (prev === '\n') id++;
    } else if (granularity === 'sentence') {
      if (prev === '\n' && (i < 2 || text[i - 2] === '\n')) id++;
      else if (/\s/.test(ch) && /[.!?。！？]/.test(prev)) id++;
    }
    ids[i] = id;
  }
  ids[text.length] = id;
  return (i) => ids[Math.min(Math.max(i, 0), text.length)];
}

function isWordChar(ch: string): boolean {
  return /[\p{L}\p{N}\p{M}_'’]/u.test(ch);
}
