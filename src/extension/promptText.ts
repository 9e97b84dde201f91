/**
 * Which text a command explains: the selection, or (with nothing selected) the content of the string literal
 * around the cursor in Python / TypeScript / JavaScript, else the paragraph — the block of non-blank lines —
 * around the cursor. Also the checks for input that should never reach the model.
 */
import * as vscode from 'vscode';
import { looksBinary, splitTrailingWhitespace } from '../core/promptTrim';
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
  if (mode === 'selection-or-paragraph' && !sel.isEmpty) {
    range = new vscode.Range(sel.start, sel.end);
  } else if (mode !== 'line' && literalLanguage(doc.languageId)) {
    const lit = stringLiteralAt(doc.getText(), doc.offsetAt(sel.active), literalLanguage(doc.languageId)!);
    if (lit?.hasEscapes) {
      return {
        problem:
          'The string literal under the cursor contains escapes (such as \\n or \\"), and Promptscope cannot yet tint escaped text inside a literal. Select the part of the literal to explain, or put the prompt in a text file.',
      };
    }
    if (lit && lit.text.trim()) {
      range = new vscode.Range(doc.positionAt(lit.contentStart), doc.positionAt(lit.contentEnd));
      source = 'literal';
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
  const full = doc.getText(range);
  if (!full.trim()) {
    return { problem: 'Nothing to explain: the selection is only whitespace. Select the prompt text itself.' };
  }
  if (looksBinary(full)) {
    return {
      problem: 'This looks like binary data (NUL, control or undecodable characters), not a prompt. Promptscope explains text prompts only: select text in a text file.',
    };
  }
  const { kept, leftOut } = readConfig(doc.uri).keepTrailingWhitespace ? { kept: full, leftOut: '' } : splitTrailingWhitespace(full);
  const trimmedRange = leftOut ? new vscode.Range(range.start, doc.positionAt(offset + kept.length)) : range;
  return { text: kept, offset, range: trimmedRange, source, ...(leftOut && { leftOut }) };
}

/** The string-literal grammar of a document's language, when Promptscope reads prompts out of its literals. */
function literalLanguage(languageId: string): LiteralLanguage | undefined {
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
