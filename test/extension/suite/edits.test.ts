import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { ExplainOutcome } from '../../../src/extension/explainController';
import { api, openScratch, select, waitFor } from './helpers';

describe('edits after a result', () => {
  const prompt = 'The capital of France is';
  let editor: vscode.TextEditor;
  let uri: string;

  beforeEach(async () => {
    editor = await openScratch(`# header\n${prompt}\n`);
    uri = editor.document.uri.toString();
    const start = editor.document.getText().indexOf(prompt);
    select(editor, start, start + prompt.length);
    const outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome.kind, 'ok');
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('moves every tint with an insertion before the prompt', async () => {
    const a = await api();
    const before = a.appliedTints(uri).map((t) => ({ ...t }));
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), 'XYZ '));
    const after = await waitFor('tints to move', () => {
      const t = a.appliedTints(uri);
      return t.length === before.length && t[0].start === before[0].start + 4 ? t : undefined;
    });
    const text = editor.document.getText();
    const stored = a.result(uri)!;
    after.forEach((t, i) => {
      assert.strictEqual(t.start, before[i].start + 4);
      assert.strictEqual(text.slice(t.start, t.end), stored.result.input.tokens[t.tokenIndex].text);
    });
  });

  it('drops the tint of an edited token and keeps the others in place', async () => {
    const a = await api();
    const stored = a.result(uri)!;
    const france = stored.tokens.find((t) => stored.result.input.tokens[t.index].text.trim() === 'France')!;
    const others = stored.tokens.filter((t) => t !== france).map((t) => ({ ...t }));
    // Replace "France" by "Italy" (one character shorter): later tokens shift by −1, earlier ones stay.
    const doc = editor.document;
    await editor.edit((e) =>
      e.replace(new vscode.Range(doc.positionAt(france.start + 1), doc.positionAt(france.end)), 'Italy'),
    );
    const now = a.result(uri)!;
    assert.ok(!now.tokens.some((t) => t.index === france.index), 'the edited token lost its tint');
    for (const o of others) {
      const t = now.tokens.find((x) => x.index === o.index)!;
      assert.ok(t, `token ${o.index} kept`);
      const shift = o.start > france.start ? -1 : 0;
      assert.strictEqual(t.start, o.start + shift);
      assert.strictEqual(doc.getText().slice(t.start, t.end), now.result.input.tokens[t.index].text);
    }
    assert.ok(!a.appliedTints(uri).some((t) => t.tokenIndex === france.index));
  });

  it('restores the tints when the editor is shown again', async () => {
    const a = await api();
    const count = a.appliedTints(uri).length;
    const other = await openScratch('another document');
    await waitFor('the other editor to be active', () => vscode.window.activeTextEditor === other);
    await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
    await waitFor('tints restored', () => a.appliedTints(uri).length === count);
    await vscode.window.showTextDocument(other.document, vscode.ViewColumn.One);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
  });
});
