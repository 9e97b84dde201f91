import * as assert from 'node:assert';
import * as vscode from 'vscode';
import { editTitle } from '../../../src/core/counterfactualText';
import type { ExplainOutcome } from '../../../src/extension/explainController';
import { api, openScratch, plainText, select, setSetting } from './helpers';

describe('Counterfactual edits in the editor', () => {
  after(async () => {
    await setSetting('method', undefined);
  });

  it('hover lists a token\u2019s verified edits; the light bulb applies one and explains the edited prompt', async () => {
    const a = await api();
    const prompt = 'The capital of France is';
    const editor = await openScratch(`Notes:\n${prompt}\n`);
    const start = editor.document.getText().indexOf(prompt);
    select(editor, start, start + prompt.length);
    await setSetting('method', 'counterfactuals');
    const outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome?.kind, 'ok', JSON.stringify(outcome));
    const uri = editor.document.uri;
    const stored = a.result(uri.toString())!;
    const cf = stored.result.counterfactuals;
    assert.ok(cf && cf.edits.length > 0, 'the result carries verified edits');

    // The token of the best replacement edit, and that token's best edit.
    const best = cf.edits.find((e) => e.kind === 'replace' && e.unit === 'token')!;
    const token = best.tokens[0];
    const mine = cf.edits.filter((e) => e.tokens.includes(token)).sort((x, y) => x.delta - y.delta)[0];
    const live = stored.tokens.find((t) => t.index === token)!;
    const pos = editor.document.positionAt(live.start + Math.min(1, live.end - live.start - 1));

    const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', uri, pos)) as vscode.Hover[];
    const text = hovers.flatMap((h) => h.contents.map((c) => plainText(typeof c === 'string' ? c : c.value))).find((t) => t.includes('Promptscope'));
    assert.ok(text?.includes('verified edits'), `hover lists edits: ${text}`);
    assert.ok(text!.includes(editTitle(mine)), `hover shows ${editTitle(mine)}: ${text}`);

    const actions = (await vscode.commands.executeCommand('vscode.executeCodeActionProvider', uri, new vscode.Range(pos, pos))) as vscode.CodeAction[];
    const action = actions.find((x) => x.title === editTitle(mine));
    assert.ok(action, `a light-bulb action "${editTitle(mine)}" among ${JSON.stringify(actions.map((x) => x.title))}`);
    assert.match(action.title, /^(Replace '.+' with '.*'|Delete '.+') → '.*' \(\d+(\.\d+)? %\)$/);
    assert.ok(action.edit && action.command);

    // What the light bulb does: apply the edit, then run its command.
    assert.ok(await vscode.workspace.applyEdit(action.edit));
    const edited = prompt.slice(0, mine.start) + mine.replacement + prompt.slice(mine.end);
    assert.strictEqual(editor.document.getText(), `Notes:\n${edited}\n`);
    const again = (await vscode.commands.executeCommand(action.command.command, ...(action.command.arguments ?? []))) as ExplainOutcome;
    assert.strictEqual(again?.kind, 'ok', JSON.stringify(again));
    const next = a.result(uri.toString())!;
    assert.strictEqual(next.result.input.text, edited, 'the edited prompt is explained');
    assert.deepStrictEqual(next.result.request.methods, ['counterfactuals']);
    // The verified outcome of the edit is what the model now predicts (when the edited text tokenizes as edited).
    const ids = stored.result.input.tokens.map((t) => t.id);
    const expectedIds = ids.flatMap((id, i) => (i === mine.tokens[0] && mine.replacementId !== undefined ? [mine.replacementId] : mine.tokens.includes(i) ? [] : [id]));
    if (JSON.stringify(next.result.input.tokens.map((t) => t.id)) === JSON.stringify(expectedIds)) {
      assert.strictEqual(next.result.predictions[0].tokenId, mine.newTop.tokenId);
      assert.ok(Math.abs(next.result.predictions[0].probability - mine.newTop.probability) < 1e-4);
    }
  });
});
