/**
 * Notebooks: samples/prompts.ipynb opened as a notebook (VS Code's built-in Jupyter serializer). A selection
 * in its Markdown cell and the string literal in its Python cell are explained like text in any editor:
 * tints on the cell's own editor, hovers on the cell, the panel following the cell.
 */
import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { ExplainOutcome } from '../../../src/extension/explainController';
import { api, closeAll, describeOutcome, plainText, sampleUri, waitFor } from './helpers';

/** The cell's text editor, focused (a Markdown cell is shown rendered until it is put in edit mode). */
async function cellEditor(cell: vscode.NotebookCell): Promise<vscode.TextEditor> {
  if (cell.kind === vscode.NotebookCellKind.Markup) {
    const nb = await waitFor('the notebook editor', () => vscode.window.activeNotebookEditor);
    nb.selections = [new vscode.NotebookRange(cell.index, cell.index + 1)];
    await vscode.commands.executeCommand('notebook.cell.edit');
  } else {
    await vscode.window.showTextDocument(cell.document);
  }
  return waitFor('the cell editor to be active', () => vscode.window.activeTextEditor?.document === cell.document && vscode.window.activeTextEditor, 10_000);
}

describe('Notebooks', () => {
  let notebook: vscode.NotebookDocument;

  before(async () => {
    notebook = await vscode.workspace.openNotebookDocument(sampleUri('prompts.ipynb'));
    await vscode.window.showNotebookDocument(notebook);
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await closeAll();
  });

  it('explains a selection in a Markdown cell: tints on the cell editor, hover, panel', async () => {
    const a = await api();
    assert.strictEqual(notebook.notebookType, 'jupyter-notebook');
    const cell = notebook.cellAt(0);
    assert.strictEqual(cell.kind, vscode.NotebookCellKind.Markup);
    const editor = await cellEditor(cell);
    const doc = cell.document;
    const prompt = 'The capital of France is';
    const start = doc.getText().indexOf(prompt);
    editor.selection = new vscode.Selection(doc.positionAt(start), doc.positionAt(start + prompt.length));
    const outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
    const uri = doc.uri.toString();
    assert.strictEqual(doc.uri.scheme, 'vscode-notebook-cell');
    const stored = a.result(uri)!;
    assert.strictEqual(stored.result.input.text, prompt);
    for (const t of stored.tokens) assert.strictEqual(doc.getText().slice(t.start, t.end), stored.result.input.tokens[t.index].text);
    const tints = await waitFor('tints on the cell', () => a.appliedTints(uri).length > 0 && a.appliedTints(uri));
    for (const t of tints) assert.ok(t.start >= start && t.end <= start + prompt.length);

    const capital = stored.tokens.find((t) => stored.result.input.tokens[t.index].text.trim() === 'capital')!;
    const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, doc.positionAt(capital.start + 2))) as vscode.Hover[];
    const ours = hovers.flatMap((h) => h.contents.map((c) => plainText(typeof c === 'string' ? c : c.value))).find((t) => t.includes('Promptscope'));
    assert.ok(ours?.includes('capital'), `a Promptscope hover on the cell: ${JSON.stringify(hovers.length)}`);

    await vscode.commands.executeCommand('promptscope.showPanel');
    await waitFor('the panel to render the cell result', () => a.panel().rendered?.resultCreatedAt === stored.result.createdAt, 30_000);
    assert.strictEqual(a.panel().updates.at(-1)?.documentUri, uri);
  });

  it('explains the string literal at the cursor in a code cell, tints inside its quotes', async () => {
    const a = await api();
    const cell = notebook.cellAt(1);
    assert.strictEqual(cell.document.languageId, 'python');
    const editor = await cellEditor(cell);
    const doc = cell.document;
    const source = doc.getText();
    const inside = source.indexOf('France');
    editor.selection = new vscode.Selection(doc.positionAt(inside), doc.positionAt(inside));
    const outcome = (await vscode.commands.executeCommand('promptscope.explainAtCursor')) as ExplainOutcome;
    assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
    const stored = a.result(doc.uri.toString())!;
    assert.strictEqual(stored.result.input.text, 'Answer in one word.\nThe capital of France is');
    const open = source.indexOf('"') + 1;
    const close = source.lastIndexOf('"');
    const spans = stored.tokens.map((t) => source.slice(t.start, t.end));
    assert.strictEqual(spans.join(''), source.slice(open, close), 'tokens cover the literal source, escape included');
    assert.ok(spans.some((s) => s.includes('\\n')), `the \\n escape is one token's source: ${JSON.stringify(spans)}`);
    await waitFor('tints on the code cell', () => a.appliedTints(doc.uri.toString()).length > 0);
    // The Markdown cell keeps its own result.
    assert.ok(a.result(notebook.cellAt(0).document.uri.toString()), 'each cell has its own result');
  });
});
