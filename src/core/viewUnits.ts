/**
 * The units every view draws: tokens grouped at a granularity, with pieces that have no visible character
 * of their own folded into the unit of the character they belong to. A byte-level tokenizer can split one
 * character over several tokens (three of an emoji's four bytes, the second byte of "é"): only the first
 * covers the character, the others are zero-width. A combining mark or an emoji modifier in its own token
 * cannot be drawn apart from its base character either. Their scores count towards the visible unit (the
 * raw per-token rows stay in the result and its JSON).
 */
import { groupTokens, type Group } from './aggregation';
import type { Granularity } from './request';
import type { ResultToken } from './result';

export function viewGroups(text: string, tokens: readonly ResultToken[], granularity: Granularity): Group[] {
  const groups = groupTokens(text, tokens, granularity);
  foldZeroWidth(groups, tokens);
  const boundaries = graphemeBoundaries(text);
  const merged = mergeAdjacent(groups, text, (a, b) => a.end === b.start && !boundaries.has(a.end));
  return merged;
}

/** Adds every zero-width, non-special token to the group of the character it is a piece of. */
function foldZeroWidth(groups: Group[], tokens: readonly ResultToken[]): void {
  if (!groups.length) return;
  for (const t of tokens) {
    if (t.special || t.end > t.start) continue;
    // The character's owner ends where the zero-width piece sits; failing that, the unit that follows it.
    let target: Group | undefined;
    for (const g of groups) if (g.start < t.start && t.start <= g.end) target = g;
    target ??= groups.find((g) => g.start >= t.start) ?? groups[groups.length - 1];
    target.tokens.push(t.index);
    target.tokens.sort((a, b) => a - b);
  }
}

/** Merges neighbouring groups (in order) while `join(previous, next)` holds. */
export function mergeAdjacent(groups: readonly Group[], text: string, join: (a: Group, b: Group) => boolean): Group[] {
  const out: Group[] = [];
  for (const g of groups) {
    const last = out[out.length - 1];
    if (last && join(last, g)) {
      last.tokens = [...last.tokens, ...g.tokens].sort((a, b) => a - b);
      last.end = g.end;
      last.text = text.slice(last.start, last.end);
    } else {
      out.push({ ...g, tokens: [...g.tokens] });
    }
  }
  return out;
}

const segmenter = typeof Intl !== 'undefined' && 'Segmenter' in Intl ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : undefined;

/** UTF-16 offsets where a user-perceived character (grapheme cluster) starts, plus the text's end. */
export function graphemeBoundaries(text: string): Set<number> {
  const out = new Set<number>([text.length]);
  if (segmenter) {
    for (const s of segmenter.segment(text)) out.add(s.index);
    return out;
  }
  // Without Intl.Segmenter: every code point starts a character except marks, joiners and modifiers.
  let i = 0;
  for (const ch of text) {
    if (!/[\p{M}\u200d\ufe00-\ufe0f\u{1f3fb}-\u{1f3ff}]/u.test(ch) && !(i > 0 && text[i - 1] === '\u200d')) out.add(i);
    i += ch.length;
  }
  return out;
}

/** Text for display: a combining mark with no base character before it is drawn on a dotted circle. */
export function showMarks(text: string): string {
  return text.replace(/(^|[\s\n])(\p{M})/gu, '$1\u25cc$2');
}
