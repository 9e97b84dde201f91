import * as assert from 'node:assert';
import * as vscode from 'vscode';
import { api, openSample, select } from './helpers';

describe('Clear Attributions', () => {
  it('removes every result, tint, the legend and the panel content', async () => {
    const a = await api();
    const editor = await openSample('capital.txt');
    const uri = editor.document.uri.toString();
    if (!a.result(uri)) {
      select(editor, 0, 24);
      await a.explain();
    }
    assert.ok(a.appliedTints(uri).length > 0);
    await vscode.commands.executeCommand('promptscope.clear');
    assert.strictEqual(a.result(uri), undefined);
    assert.strictEqual(a.appliedTints(uri).length, 0);
    assert.strictEqual(a.legendText(), undefined);
    assert.strictEqual(a.panel().updates.at(-1)?.result, undefined);
    const hovers = (await vscode.commands.executeCommand(
      'vscode.executeHoverProvider',
      editor.document.uri,
      new vscode.Position(0, 6),
    )) as vscode.Hover[];
    const texts = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value)));
    assert.ok(!texts.some((t) => t.includes('Promptscope')), 'no hover left');
  });
});
