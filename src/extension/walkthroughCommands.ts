/**
 * Commands behind the Get started walkthrough's buttons. A button is clicked in the walkthrough, where no
 * text editor has focus, so these open or find the editor they act on themselves.
 */
import * as vscode from 'vscode';
import type { PaintedRange } from './tintRenderer';

/** The walkthrough's sample: the prompt of its first line is what gets explained. */
export const SAMPLE_PROMPT = 'The capital of France is';
const SAMPLE_TEXT = `${SAMPLE_PROMPT}\n\nSelect a prompt and press Ctrl+Alt+E to explain it.\n`;

/** Opens the sample prompt beside the walkthrough, selects it and runs Explain Selection on it. */
export async function explainSample(explainSelection: () => Promise<unknown>): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: SAMPLE_TEXT });
  const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false });
  editor.selection = new vscode.Selection(0, 0, 0, SAMPLE_PROMPT.length);
  await explainSelection();
}

/** The strongest painted tint of a document (the highest bucket level), if any. */
export function strongestTint(painted: readonly PaintedRange[]): PaintedRange | undefined {
  const level = (p: PaintedRange) => Number(/(\d+)/.exec(p.bucket)?.[1] ?? 0);
  return [...painted].sort((a, b) => level(b) - level(a) || a.start - b.start)[0];
}

/**
 * Shows the hover of the most strongly tinted token in the explained editor (the active one, else a
 * visible one with tints); says what to do first when nothing has been explained.
 */
export async function showTokenHover(painted: ReadonlyMap<string, readonly PaintedRange[]>): Promise<void> {
  const candidates = [vscode.window.activeTextEditor, ...vscode.window.visibleTextEditors].filter((e): e is vscode.TextEditor => !!e);
  const editor = candidates.find((e) => (painted.get(e.document.uri.toString()) ?? []).length > 0);
  const tint = editor && strongestTint(painted.get(editor.document.uri.toString()) ?? []);
  if (!editor || !tint) {
    void vscode.window.showInformationMessage('Promptscope: explain a prompt first (Explain Selection); then its tinted tokens have hovers.');
    return;
  }
  const shown = await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preserveFocus: false });
  const at = shown.document.positionAt(tint.start);
  shown.selection = new vscode.Selection(at, at);
  shown.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  await vscode.commands.executeCommand('editor.action.showHover');
}
