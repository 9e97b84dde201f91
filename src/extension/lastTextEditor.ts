/**
 * The text editor a walkthrough button acts on (clicked in the walkthrough, no text editor is active): the
 * last active text editor, while its tab is still open. Only for such buttons: from the keyboard or the
 * palette the active editor is the one meant, and the extension host may not have caught up with a switch.
 */
import * as vscode from 'vscode';
import { Disposable } from './lifecycle';

export class LastTextEditor extends Disposable {
  private last: vscode.TextEditor | undefined = vscode.window.activeTextEditor;

  constructor() {
    super();
    this._register(vscode.window.onDidChangeActiveTextEditor((ed) => ed && (this.last = ed)));
  }

  /** The active text editor, else the last one brought back to the front of its group (or undefined). */
  async current(): Promise<vscode.TextEditor | undefined> {
    const active = vscode.window.activeTextEditor;
    if (active) return active;
    // The editor of the text tab in front of the active group is what the user sees: prefer it to the last
    // tracked one, which can lag behind the tabs by an event on a busy extension host.
    const front = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (front instanceof vscode.TabInputText) {
      const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === front.uri.toString());
      if (shown) return shown;
    }
    const last = this.last;
    if (!last || last.document.isClosed) return undefined;
    const uri = last.document.uri.toString();
    const hasTab = vscode.window.tabGroups.all.some((g) =>
      g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === uri),
    );
    if (!hasTab) return undefined;
    const visible = vscode.window.visibleTextEditors.find((e) => e.document === last.document);
    const editor = await vscode.window.showTextDocument(last.document, { viewColumn: (visible ?? last).viewColumn, preserveFocus: false });
    // A re-shown editor gets the selection the command was meant for.
    if (editor.selection.isEqual(new vscode.Selection(0, 0, 0, 0)) && !last.selection.isEmpty) editor.selection = last.selection;
    return editor;
  }
}
