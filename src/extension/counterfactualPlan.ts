/**
 * Which counterfactual edits the light bulb offers at a document offset, and what applying one does to the
 * document: pure (no `vscode`), so that the rules are easy to test. An edit is offered only while every token
 * it touches is still live and the document still shows the text it replaces.
 */
import { editsOfToken, editTitle } from '../core/counterfactualText';
import type { CounterfactualEdit } from '../core/result';
import type { StoredResult } from './resultStore';

export interface PlannedEdit {
  title: string;
  edit: CounterfactualEdit;
  /** Document range the edit replaces, and the text it puts there. */
  start: number;
  end: number;
  replacement: string;
  /** The explained prompt after the edit, and its document offset (for the re-explanation). */
  newText: string;
  newTextOffset: number;
}

/** Best verified edits of the token under `offset`, at most `max`, as document edits. */
export function plannedEditsAt(stored: StoredResult, offset: number, documentText: string, max = 3): PlannedEdit[] {
  const cf = stored.result.counterfactuals;
  if (!cf) return [];
  const live = stored.tokens.find((t) => offset >= t.start && offset < t.end) ?? stored.tokens.find((t) => offset === t.end);
  if (!live) return [];
  const { request, input } = stored.result;
  // The requested text may be longer than the explained (truncated) text: re-explain the whole request.
  const requestStart = stored.offset - (request.text.length - input.text.length);
  const requestEnd = requestStart + request.text.length;
  if (documentText.slice(requestStart, requestEnd) !== request.text) return [];
  const out: PlannedEdit[] = [];
  for (const e of editsOfToken(cf, live.index)) {
    const tokens = e.tokens.map((i) => stored.tokens.find((t) => t.index === i));
    if (tokens.some((t) => !t)) continue;
    const start = tokens[0]!.start;
    const end = tokens[tokens.length - 1]!.end;
    if (documentText.slice(start, end) !== e.original) continue;
    out.push({
      title: editTitle(e),
      edit: e,
      start,
      end,
      replacement: e.replacement,
      newText: request.text.slice(0, start - requestStart) + e.replacement + request.text.slice(end - requestStart),
      newTextOffset: requestStart,
    });
    if (out.length >= max) break;
  }
  return out;
}
