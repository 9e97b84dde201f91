/**
 * Results per document. Each token keeps a live range in document offsets: an edit shifts the tokens after
 * it and drops the tokens it touches, so tints stay on exactly the characters they were computed for.
 * Pure (no `vscode` import) so that the edit rules are easy to test.
 */
import type { AttributionResult } from '../core/result';
import { sliceSourceMap, type SourceMap } from '../core/sourceMap';

export interface LiveToken {
  /** Index into result.input.tokens. */
  index: number;
  start: number;
  end: number;
}

export interface StoredResult {
  documentUri: string;
  result: AttributionResult;
  /** Document offset of result.input.text[0] when the result arrived (start of the explained text). */
  originalOffset: number;
  /** Current document offset of the explained text's start (moves with edits before it). */
  offset: number;
  /** Visible, still-valid tokens in document offsets; tokens touched by an edit are removed. */
  tokens: LiveToken[];
  /** Which target row the tints show (rows > 1 for generated / forced continuations). */
  row: number;
  /** Which method run the tints show. */
  run: number;
  /** Trailing whitespace of the selection that the prompt left out. */
  leftOut?: string;
  /**
   * A string literal with escapes: where the characters of result.input.text sit in the document, relative
   * to `offset` (without it, the text is a verbatim slice of the document starting at `offset`).
   */
  sourceMap?: SourceMap;
  /** The same for the whole requested text (a truncated result covers only its end): re-runs need it. */
  requestSourceMap?: SourceMap;
}

/** One edit in the coordinates of the document before the edit (like TextDocumentContentChangeEvent). */
export interface TextEdit {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

/**
 * `offset`: document offset of result.input.text's start. `map`: for a decoded literal, where each character
 * of result.input.text sits relative to `offset`.
 */
export function createStoredResult(documentUri: string, result: AttributionResult, offset: number, map?: SourceMap): StoredResult {
  const at = (i: number) => offset + (map ? map.offsets[i] : i);
  const tokens: LiveToken[] = [];
  for (const t of result.input.tokens) {
    if (t.special || t.end <= t.start) continue;
    tokens.push({ index: t.index, start: at(t.start), end: at(t.end) });
  }
  return { documentUri, result, originalOffset: offset, offset, tokens, row: 0, run: 0, ...(map && { sourceMap: map }) };
}

/** The part of a requested text's map that a result truncated to the text's last characters covers. */
export function truncatedMap(requestMap: SourceMap, requestLength: number, explainedLength: number): SourceMap {
  return sliceSourceMap(requestMap, requestLength - explainedLength, requestLength);
}

/** The document offset of character `i` of the stored result's input text, where it is now. */
export function documentOffsetOf(stored: StoredResult, i: number): number {
  return stored.offset + (stored.sourceMap ? stored.sourceMap.offsets[Math.max(0, Math.min(i, stored.sourceMap.offsets.length - 1))] : i);
}

/**
 * Whether each live token still covers its own characters in `text` (the whole document): the token's text,
 * or for a decoded literal, the source the explained text was decoded from, unchanged.
 */
export function stillMatches(stored: StoredResult, text: string): boolean {
  if (stored.sourceMap) return text.startsWith(stored.sourceMap.source, stored.offset);
  return stored.tokens.every((t) => text.slice(t.start, t.end) === stored.result.input.tokens[t.index].text);
}

/**
 * Applies the edits of one change event. VS Code reports all changes of an event against the document
 * before the event, so they are applied from the last offset to the first.
 */
export function applyEdits(stored: StoredResult, edits: readonly TextEdit[]): boolean {
  let changed = false;
  const ordered = [...edits].sort((a, b) => b.rangeOffset - a.rangeOffset);
  for (const e of ordered) {
    const from = e.rangeOffset;
    const to = e.rangeOffset + e.rangeLength;
    const delta = e.text.length - e.rangeLength;
    const kept: LiveToken[] = [];
    for (const t of stored.tokens) {
      if (t.end <= from) {
        kept.push(t); // entirely before the edit (an insertion right after a token leaves it alone)
      } else if (t.start >= to) {
        if (delta !== 0) changed = true;
        kept.push({ index: t.index, start: t.start + delta, end: t.end + delta }); // after: shift
      } else {
        changed = true; // overlaps the edit: its characters changed, its score no longer applies
      }
    }
    stored.tokens = kept;
    if (stored.offset >= to) stored.offset += delta;
    else if (stored.offset > from) stored.offset = from + e.text.length;
  }
  return changed;
}

/** Results keyed by document URI string. */
export class ResultStore {
  private readonly byDoc = new Map<string, StoredResult>();

  get(uri: string): StoredResult | undefined {
    return this.byDoc.get(uri);
  }
  set(stored: StoredResult): void {
    this.byDoc.set(stored.documentUri, stored);
  }
  delete(uri: string): boolean {
    return this.byDoc.delete(uri);
  }
  clear(): void {
    this.byDoc.clear();
  }
  uris(): string[] {
    return [...this.byDoc.keys()];
  }

  /** The live token covering a document offset (end exclusive), if any. */
  tokenAt(uri: string, offset: number): LiveToken | undefined {
    const s = this.byDoc.get(uri);
    if (!s) return undefined;
    // Tokens are sorted by start; binary search keeps hovers cheap on long prompts.
    let lo = 0;
    let hi = s.tokens.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = s.tokens[mid];
      if (offset < t.start) hi = mid - 1;
      else if (offset >= t.end) lo = mid + 1;
      else return t;
    }
    return undefined;
  }
}
