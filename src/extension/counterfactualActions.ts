/**
 * The light bulb on a token with verified counterfactual edits: "Replace 'France' with 'Japan' → ' Tokyo'
 * (61 %)" applies the edit to the document and explains the edited prompt again with the same methods,
 * target and model.
 */
import * as vscode from 'vscode';
import { plannedEditsAt } from './counterfactualPlan';
import type { ExplainOptions, ExplainOutcome } from './explainController';
import type { ResultStore } from './resultStore';

export const APPLY_COUNTERFACTUAL = 'promptscope.applyCounterfactual';

interface ReExplainArgs {
  uri: string;
  text: string;
  offset: number;
  options: ExplainOptions;
}

export class CounterfactualActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly store: ResultStore) {}

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    const stored = this.store.get(document.uri.toString());
    // Edits are planned on the prompt's text; in a literal with escapes that is not the document's text.
    if (!stored?.result.counterfactuals || stored.sourceMap) return [];
    const { request } = stored.result;
    return plannedEditsAt(stored, document.offsetAt(range.start), document.getText()).map((p, i) => {
      const action = new vscode.CodeAction(p.title, vscode.CodeActionKind.QuickFix);
      action.edit = new vscode.WorkspaceEdit();
      action.edit.replace(document.uri, new vscode.Range(document.positionAt(p.start), document.positionAt(p.end)), p.replacement);
      const args: ReExplainArgs = {
        uri: document.uri.toString(),
        text: p.newText,
        offset: p.newTextOffset,
        options: { methods: request.methods, target: request.target, model: request.model, ...(request.params ? { params: request.params } : {}), maxTokens: request.maxTokens, truncateFromStart: request.truncateFromStart },
      };
      action.command = { command: APPLY_COUNTERFACTUAL, title: 'Explain the edited prompt', arguments: [args] };
      action.isPreferred = i === 0;
      return action;
    });
  }
}

/** Registers the provider and the re-explain command that runs after an edit is applied. */
export function registerCounterfactualActions(
  store: ResultStore,
  explain: (editor: vscode.TextEditor, options: ExplainOptions) => Promise<ExplainOutcome>,
): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.languages.registerCodeActionsProvider('*', new CounterfactualActions(store), { providedCodeActionKinds: CounterfactualActions.kinds }),
    vscode.commands.registerCommand(APPLY_COUNTERFACTUAL, async (args: ReExplainArgs) => {
      const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === args.uri);
      if (!editor) return undefined;
      const doc = editor.document;
      const now = doc.getText(new vscode.Range(doc.positionAt(args.offset), doc.positionAt(args.offset + args.text.length)));
      // The edit did not land as planned (the document changed meanwhile): leave it to the user.
      if (now !== args.text) return undefined;
      return explain(editor, { ...args.options, explicit: { text: args.text, offset: args.offset } });
    }),
  );
}
