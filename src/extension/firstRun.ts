/**
 * Opens the Get started walkthrough once, on the first activation after install (remembered in
 * globalState). When an editor is open, the walkthrough ends up as a tab behind it, as VS Code opens the
 * walkthroughs of extensions installed from the gallery: the command that activated Promptscope keeps its
 * editor (pinned, if it was a preview tab), its focus and its status-bar legend. Off when the user turned
 * `workbench.welcomePage.walkthroughs.openOnInstall` off, and under the extension test runner.
 */
import * as vscode from 'vscode';

export const WALKTHROUGH_SHOWN_KEY = 'promptscope.walkthroughShown';
export const WALKTHROUGH_ID = 'gettingStarted';

export function openWalkthroughOnFirstRun(context: vscode.ExtensionContext): void {
  if (context.extensionMode === vscode.ExtensionMode.Test) return;
  if (context.globalState.get<boolean>(WALKTHROUGH_SHOWN_KEY)) return;
  if (!vscode.workspace.getConfiguration('workbench.welcomePage').get<boolean>('walkthroughs.openOnInstall', true)) return;
  // Marked first, so a failure to open never makes it pop up at every start.
  void context.globalState.update(WALKTHROUGH_SHOWN_KEY, true);
  void open(`${context.extension.id}#${WALKTHROUGH_ID}`);
}

async function open(walkthrough: string): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  // A file shown in a preview tab (opened with one click) would be replaced by the walkthrough's tab: keep it.
  if (editor && vscode.window.tabGroups.activeTabGroup.activeTab?.isPreview) await vscode.commands.executeCommand('workbench.action.keepEditor');
  const opened = editor ? walkthroughTabOpened() : Promise.resolve(false);
  // Opened in the foreground: VS Code (1.100) gives a walkthrough tab opened in the background
  // (`inactive`) no walkthrough of its own, and brought to the front later it shows VS Code's.
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', walkthrough);
  // Then the user's file comes back to the front, with the focus, before anything was typed in the walkthrough.
  if (editor && (await opened)) {
    await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preserveFocus: false, selection: editor.selection });
  }
}

/** Resolves true when a workbench-only tab (no text, webview or custom input: the walkthrough) has opened. */
function walkthroughTabOpened(timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      sub.dispose();
      // Let the walkthrough page build (and select its walkthrough) before it goes to the background.
      setTimeout(() => resolve(value), value ? 300 : 0);
    };
    const sub = vscode.window.tabGroups.onDidChangeTabs((e) => e.opened.some((t) => t.input === undefined) && done(true));
    const timer = setTimeout(() => done(false), timeoutMs);
  });
}
