/**
 * Where editor tints may start and end. A decoration boundary splits the editor's text into separate
 * spans; inside a word of a joining script (Arabic, Syriac, N'Ko, Mongolian …), a right-to-left script
 * (Hebrew, Thaana …) or a script whose letters combine into conjuncts (Devanagari and other Indic scripts)
 * that breaks the word's shaping and bidi order. Such a word is tinted as one range with its summed score,
 * and neighbouring ranges of one colour are painted as one.
 */
import type { Group } from './aggregation';
import { mergeAdjacent } from './viewUnits';

/** Scripts whose words must not be split by a tint boundary. */
export const SHAPING_SCRIPTS = [
  'Arabic', 'Hebrew', 'Syriac', 'Thaana', 'Nko', 'Samaritan', 'Mandaic', 'Mongolian', 'Adlam', 'Hanifi_Rohingya',
  'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala',
  'Myanmar', 'Khmer', 'Tibetan',
] as const;

const SHAPING = new RegExp(`[${SHAPING_SCRIPTS.map((s) => `\\p{Script=${s}}`).join('')}]`, 'u');
const SPACE = /\s/u;

/**
 * Whether a line holds text of a shaping or right-to-left script. The editor splits a line's text into
 * separate spans wherever a decoration changes the text's own style (colour, underline), and those spans
 * are laid out one after the other: a right-to-left run loses its word order and a joining word its
 * shape. Tints on such a line change only the background, which the editor draws beneath the text.
 */
export function needsBackgroundOnly(line: string): boolean {
  return SHAPING.test(line);
}

/** The script of the first character of `word` that needs whole-word tints, if any. */
export function shapingScriptOf(word: string): string | undefined {
  for (const ch of word) {
    if (!SHAPING.test(ch)) continue;
    return SHAPING_SCRIPTS.find((s) => new RegExp(`\\p{Script=${s}}`, 'u').test(ch));
  }
  return undefined;
}

/** The maximal run of non-space characters around [from, to). */
function wordAround(text: string, from: number, to: number): string {
  let a = from;
  let b = to;
  while (a > 0 && !SPACE.test(text[a - 1])) a--;
  while (b < text.length && !SPACE.test(text[b])) b++;
  return text.slice(a, b);
}

/**
 * Whether a boundary between `a` (ending at a.end) and `b` (starting at b.start) would fall inside a word
 * of a shaping script: no space at or between the two edges, and the word contains such a script.
 */
export function boundaryInsideShapedWord(text: string, aEnd: number, bStart: number): boolean {
  if (aEnd <= 0 || bStart >= text.length || bStart < aEnd) return false;
  const span = text.slice(aEnd - 1, bStart + 1);
  if (SPACE.test(span)) return false;
  return shapingScriptOf(wordAround(text, aEnd - 1, bStart + 1)) !== undefined;
}

/** Groups merged so that no group boundary lies inside a word of a shaping script. */
export function shapingSafeGroups(text: string, groups: readonly Group[]): Group[] {
  return mergeAdjacent(groups, text, (a, b) => boundaryInsideShapedWord(text, a.end, b.start));
}

export interface PaintItem {
  start: number;
  end: number;
  /** Colour bucket key; items without one are not painted. */
  key: string | undefined;
}

export interface PaintRun {
  /** Painted characters: the items' span without leading and trailing whitespace. */
  start: number;
  end: number;
  key: string;
  /** Indices of the items this run paints. */
  items: number[];
}

/**
 * One run per stretch of same-coloured items that touch or are separated only by spaces and tabs on one
 * line; each run is trimmed of whitespace at both ends (a tint on the space before a word looks shifted).
 * A run of only whitespace keeps its whole span so that whitespace tokens stay visible.
 */
export function paintRuns(text: string, items: readonly PaintItem[]): PaintRun[] {
  const runs: PaintRun[] = [];
  let open: { start: number; end: number; key: string; items: number[] } | undefined;
  const close = () => {
    if (!open) return;
    let from = open.start;
    let to = open.end;
    while (from < to && SPACE.test(text[from])) from++;
    while (to > from && SPACE.test(text[to - 1])) to--;
    runs.push(from < to ? { ...open, start: from, end: to } : { ...open });
    open = undefined;
  };
  items.forEach((it, i) => {
    if (it.key === undefined || it.end <= it.start) {
      close();
      return;
    }
    if (open && open.key === it.key && it.start >= open.end && /^[ \t]*$/.test(text.slice(open.end, it.start)) && !text.slice(open.start, it.start).includes('\n')) {
      open.end = it.end;
      open.items.push(i);
      return;
    }
    close();
    open = { start: it.start, end: it.end, key: it.key, items: [i] };
  });
  close();
  return runs;
}
