import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { ExplainOutcome } from '../../../src/extension/explainController';
import { api, describeOutcome as show, openScratch, select, setSetting } from './helpers';

describe('bad input', () => {
  afterEach(async () => {
    await setSetting('maxTokens', undefined);
    await setSetting('model', undefined);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('an empty selection on a blank line gives one clear message and no result', async () => {
    const a = await api();
    const editor = await openScratch('first line\n\n\nlast line');
    editor.selection = new vscode.Selection(1, 0, 1, 0);
    const outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome.kind, 'problem', show(outcome));
    assert.match(a.lastMessage() ?? '', /Nothing to explain/);
    assert.strictEqual(a.result(editor.document.uri.toString()), undefined);
  });

  it('with nothing selected, explains the paragraph at the cursor', async () => {
    const a = await api();
    const editor = await openScratch('Intro line\n\nThe capital of France is\nParis, and the capital of\n\nEnd');
    editor.selection = new vscode.Selection(3, 2, 3, 2);
    const outcome = (await vscode.commands.executeCommand('promptscope.explainAtCursor')) as ExplainOutcome;
    assert.strictEqual(outcome.kind, 'ok', show(outcome));
    assert.strictEqual(a.result(editor.document.uri.toString())?.result.input.text, 'The capital of France is\nParis, and the capital of');
  });

  it('with nothing selected in code, explains the string literal at the cursor; tints sit inside the quotes', async () => {
    const a = await api();
    const source = "import x\n\nprompt = 'The capital of France is'  # the prompt\nprint(prompt)\n";
    const editor = await openScratch(source, 'python');
    const inside = source.indexOf('France');
    editor.selection = new vscode.Selection(editor.document.positionAt(inside), editor.document.positionAt(inside));
    const outcome = (await vscode.commands.executeCommand('promptscope.explainAtCursor')) as ExplainOutcome;
    assert.strictEqual(outcome.kind, 'ok', show(outcome));
    const stored = a.result(editor.document.uri.toString())!;
    assert.strictEqual(stored.result.input.text, 'The capital of France is');
    for (const t of stored.tokens) assert.strictEqual(source.slice(t.start, t.end), stored.result.input.tokens[t.index].text);
    // Literals with escapes: see literals.test.ts.
  });

  it('a prompt longer than the limit is refused with the token counts; the editor keeps its state', async () => {
    const a = await api();
    const editor = await openScratch('one two three four five six seven eight nine ten eleven twelve');
    await setSetting('maxTokens', 4);
    select(editor, 0, editor.document.getText().length);
    const outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome.kind, 'error', show(outcome));
    assert.strictEqual((outcome as { code: string }).code, 'too-long');
    assert.match(a.lastMessage() ?? '', /is \d+ tokens, more than the 4 that fit/);
    assert.match(a.lastMessage() ?? '', /promptscope\.maxTokens/);
    assert.strictEqual(a.result(editor.document.uri.toString()), undefined);
    // The offered action: explain the last 4 tokens only.
    const truncated = await a.explain({ truncateFromStart: true, maxTokens: 4 });
    assert.strictEqual(truncated.kind, 'ok', show(truncated));
    const stored = a.result(editor.document.uri.toString())!;
    const shown = stored.tokens.map((t) => stored.result.input.tokens[t.index].text).join('');
    assert.ok(editor.document.getText().endsWith(shown), `the last tokens are shown: ${shown}`);
    assert.ok(stored.tokens.length <= 4);
  });

  it('binary-looking text is refused', async () => {
    const a = await api();
    const editor = await openScratch('abc\u0000def');
    select(editor, 0, 7);
    const outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome.kind, 'problem', show(outcome));
    assert.match(a.lastMessage() ?? '', /binary/);
  });

  it('a model that cannot be loaded gives one clear message', async () => {
    const a = await api();
    const editor = await openScratch('The capital of France is');
    await setSetting('model', '/nonexistent/model-folder');
    select(editor, 0, 24);
    const outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome.kind, 'error', show(outcome));
    assert.match(a.lastMessage() ?? '', /could not load the model/);
    assert.strictEqual(a.result(editor.document.uri.toString()), undefined);
  });
});
