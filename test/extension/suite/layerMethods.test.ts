import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { ExplainOutcome } from '../../../src/extension/explainController';
import { api, openSample, select, setSetting } from './helpers';

describe('Layer methods in the editor', () => {
  after(async () => {
    await setSetting('method', undefined);
    await setSetting('layer', undefined);
  });

  it('explains at the block promptscope.layer names, with every depth for the panel, and leaves attention alone', async () => {
    const a = await api();
    const editor = await openSample('capital.txt');
    const uri = editor.document.uri.toString();
    const text = 'The capital of France is';
    const start = editor.document.getText().indexOf(text);
    await setSetting('method', 'layer-gradient-x-activation');
    await setSetting('layer', 'last');
    select(editor, start, start + text.length);
    let outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome?.kind, 'ok', JSON.stringify(outcome));
    let run = a.result(uri)!.result.runs[0];
    assert.strictEqual(run.method, 'layer-gradient-x-activation');
    assert.deepStrictEqual(run.params, { layer: 3 }, 'last = the output of block 3 of the bundled LM');
    assert.deepStrictEqual(run.layerSweep?.streams, [0, 1, 2, 3, 4]);
    assert.ok(a.appliedTints(uri).length > 0, 'the chosen layer tints the editor');

    await setSetting('layer', '1');
    select(editor, start, start + text.length);
    outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome?.kind, 'ok', JSON.stringify(outcome));
    run = a.result(uri)!.result.runs[0];
    assert.deepStrictEqual(run.params, { layer: 1 });

    // Attention reads `layer` too: the layer setting must not narrow it to one layer.
    await setSetting('method', 'attention');
    select(editor, start, start + text.length);
    outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome?.kind, 'ok', JSON.stringify(outcome));
    assert.deepStrictEqual(a.result(uri)!.result.runs[0].params, {}, 'attention keeps its mean over layers');
  });
});
