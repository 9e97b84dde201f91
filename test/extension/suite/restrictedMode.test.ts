/**
 * Restricted Mode: run by `npm run test:extension` in a second pass that opens an untrusted workspace whose
 * .vscode/settings.json points promptscope.model at the bundled sentiment classifier's folder
 * (PROMPTSCOPE_RESTRICTED_MODEL). The workspace value must be ignored: the default bundled language model
 * explains, and a message says why. In the trusted pass these tests are pending.
 */
import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { ExplainOutcome } from '../../../src/extension/explainController';
import { api, openSample, select } from './helpers';

const folderSetting = process.env.PROMPTSCOPE_RESTRICTED_MODEL;

(folderSetting ? describe : describe.skip)('Restricted Mode (untrusted workspace)', () => {
  it('the workspace is untrusted, and VS Code hides its promptscope.model', async () => {
    assert.strictEqual(vscode.workspace.isTrusted, false, 'the second pass opens an untrusted workspace');
    const file = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, '.vscode', 'settings.json');
    const written = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(file))) as Record<string, unknown>;
    assert.strictEqual(written['promptscope.model'], folderSetting, 'the workspace sets promptscope.model to a model folder');
    const i = vscode.workspace.getConfiguration('promptscope').inspect<string>('model');
    assert.strictEqual(i?.workspaceValue, undefined, JSON.stringify(i));
    assert.strictEqual(vscode.workspace.getConfiguration('promptscope').get('model'), '');
  });

  it('explains with the bundled model, not the workspace\'s folder, and says why', async () => {
    const a = await api();
    const editor = await openSample('capital.txt');
    const text = 'The capital of France is';
    const start = editor.document.getText().indexOf(text);
    select(editor, start, start + text.length);
    const outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome?.kind, 'ok', JSON.stringify(outcome));
    const stored = a.result(editor.document.uri.toString());
    assert.ok(stored);
    assert.strictEqual(stored.result.model.kind, 'causal-lm', `the classifier folder from the workspace was not used (${stored.result.model.id})`);
    assert.match(stored.result.model.id, /promptscope-tiny-lm/);
    assert.match(a.lastMessage() ?? '', /Restricted Mode, so its setting promptscope\.model is ignored and the bundled model is used\. Trust the workspace/);
  });
});
