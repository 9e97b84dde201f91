/**
 * Which text a command explains: the selection, or (with nothing selected) the content of the string literal
 * around the cursor in Python / TypeScript / JavaScript, else the paragraph — the block of non-blank lines —
 * around the cursor. Also the checks for input that should never reach the model.
 */
import * as vscode from 'vscode';
import { looksBinary, splitTrailingWhitespace } from '../core/promptTrim';
import { literalSourceMap, sliceSourceMap, type SourceMap } from '../core/sourceMap';
import { stringLiteralAt, type LiteralLanguage } from '../core/stringLiteral';
import { readConfig } from './config';

/** Larger selections are refused before tokenising: they cannot fit any bundled model's context anyway. */
export const MAX_SELECTION_CHARS = 200_000;

export interface PromptText {
  text: string;
  /** Document offset of text[0]. */
  offset: number;
  range: vscode.Range;
  source: 'selection' | 'paragraph' | 'line' | 'literal';
  /** Whitespace at the end of the selection that the prompt leaves out (promptscope.keepTrailingWhitespace). */
  leftOut?: string;
  /** A literal with escapes: where each character of `text` sits in the document, relative to `offset`. */
  sourceMap?: SourceMap;
}

export type PromptTextProblem = { problem: string };

export function promptTextFor(
  editor: vscode.TextEditor,
  mode: 'selection-or-paragraph' | 'paragraph' | 'line' = 'selection-or-paragraph',
): PromptText | PromptTextProblem {
  const doc = editor.document;
  const sel = editor.selection;
  let range: vscode.Range | undefined;
  let source: PromptText['source'] = 'selection';
  let decoded: { text: string; map: SourceMap } | undefined;
  if (mode === 'selection-or-paragraph' && !sel.isEmpty) {
    range = new vscode.Range(sel.start, sel.end);
  } else if (mode !== 'line' && literalLanguage(doc.languageId)) {
    const lit = stringLiteralAt(doc.getText(), doc.offsetAt(sel.active), literalLanguage(doc.languageId)!);
    if (lit && lit.text.trim()) {
      // Escapes: the decoded content is the prompt, and the map puts its tints back on the source (which
      // starts at the first decoded character: a line continuation right after the quote is left out).
      const start = lit.hasEscapes ? lit.offsets[0] : lit.contentStart;
      range = new vscode.Range(doc.positionAt(start), doc.positionAt(lit.contentEnd));
      source = 'literal';
      if (lit.hasEscapes) decoded = { text: lit.text, map: literalSourceMap(doc.getText(), lit.offsets) };
    } else {
      range = paragraphAt(doc, sel.active.line);
      source = 'paragraph';
    }
  } else if (mode === 'line') {
    const line = doc.lineAt(sel.active.line);
    if (!line.isEmptyOrWhitespace) range = line.range;
    source = 'line';
  } else {
    range = paragraphAt(doc, sel.active.line);
    source = 'paragraph';
  }
  if (!range) {
    return {
      problem:
        'Nothing to explain: select a prompt, or put the cursor in a line or paragraph of text, then run Promptscope: Explain Selection.',
    };
  }
  const offset = doc.offsetAt(range.start);
  const length = doc.offsetAt(range.end) - offset;
  if (length > MAX_SELECTION_CHARS) {
    return {
      problem: `The selection is ${length.toLocaleString('en')} characters; Promptscope explains at most ${MAX_SELECTION_CHARS.toLocaleString('en')}. Select a shorter prompt.`,
    };
  }
  const full = decoded?.text ?? doc.getText(range);
  if (!full.trim()) {
    return { problem: 'Nothing to explain: the selection is only whitespace. Select the prompt text itself.' };
  }
  if (looksBinary(full)) {
    return {
      problem: 'This looks like binary data (NUL, control or undecodable characters), not a prompt. Promptscope explains text prompts only: select text in a text file.',
    };
  }
  const { kept, leftOut } = readConfig(doc.uri).keepTrailingWhitespace ? { kept: full, leftOut: '' } : splitTrailingWhitespace(full);
  const map = decoded && sliceSourceMap(decoded.map, 0, kept.length);
  const keptEnd = offset + (map ? map.source.length : kept.length);
  const trimmedRange = leftOut ? new vscode.Range(range.start, doc.positionAt(keptEnd)) : range;
  return { text: kept, offset, range: trimmedRange, source, ...(leftOut && { leftOut }), ...(map && { sourceMap: map }) };
}

/** The string-literal grammar of a document's language, when Promptscope reads prompts out of its literals. */
export function literalLanguage(languageId: string): LiteralLanguage | undefined {
  if (languageId === 'python') return 'python';
  if (languageId === 'typescript' || languageId === 'typescriptreact') return 'typescript';
  if (languageId === 'javascript' || languageId === 'javascriptreact') return 'javascript';
  return undefined;
}

/** Lines around `line` up to (not including) the nearest blank lines; undefined on a blank line. */
function paragraphAt(doc: vscode.TextDocument, line: number): vscode.Range | undefined {
  if (doc.lineAt(line).isEmptyOrWhitespace) return undefined;
  let first = line;
  let last = line;
  while (first > 0 && !doc.lineAt(first - 1).isEmptyOrWhitespace) first--;
  while (last < doc.lineCount - 1 && !doc.lineAt(last + 1).isEmptyOrWhitespace) last++;
  return new vscode.Range(doc.lineAt(first).range.start, doc.lineAt(last).range.end);
}
