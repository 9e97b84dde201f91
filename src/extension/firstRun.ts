/**
 * Opens the Getting Started walkthrough once, on the first activation after install. Remembered in
 * globalState; skipped under extension tests and when the user turned walkthroughs-on-install off.
 */
import * as vscode from 'vscode';

const SHOWN_KEY = 'promptscope.walkthroughShown';
export const WALKTHROUGH_ID = 'gettingStarted';

export function openWalkthroughOnFirstRun(context: vscode.ExtensionContext): void {
  if (context.extensionMode === vscode.ExtensionMode.Test) return;
  if (context.globalState.get<boolean>(SHOWN_KEY)) return;
  if (!vscode.workspace.getConfiguration('workbench.welcomePage').get<boolean>('walkthroughs.openOnInstall', true)) return;
  // Marked first, so a failure to open never makes it pop up at every start.
  void context.globalState.update(SHOWN_KEY, true);
  // Beside the editor: the command that activated the extension keeps its editor.
  void vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#${WALKTHROUGH_ID}`, true);
}
