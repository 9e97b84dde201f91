/**
 * "Ask the Model to Rate Its Input" and results across the bundled seed variants, through the editor:
 * the tiny LM's own ratings (unreadable: it was never taught the format) reach the hover and the panel
 * beside the attribution; a classifier is refused with one message and the editor keeps its state; with
 * promptscope.seedVariants = ["bundled"] the classifier's result carries every bundled variant, tokens
 * whose sign flips get the dotted underline and the hover gives mean ± sd over the variants.
 */
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExplainOutcome } from '../../../src/extension/explainController';
import { api, describeOutcome, EXTENSION_ID, openScratch, plainText, select, setSetting, waitFor } from './helpers';

async function hoverAt(editor: vscode.TextEditor, offset: number): Promise<string | undefined> {
  const pos = editor.document.positionAt(offset);
  const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', editor.document.uri, pos)) as vscode.Hover[];
  return hovers.flatMap((h) => h.contents.map((c) => plainText(typeof c === 'string' ? c : c.value))).find((t) => t.includes('Promptscope'));
}

describe('the model’s own ratings and seed variants in the editor', () => {
  afterEach(async () => {
    await setSetting('model', undefined);
    await setSetting('seedVariants', undefined);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('Ask the Model to Rate Its Input: attribution tints, and the model’s own (unreadable) reply in hover and panel', async () => {
    const a = await api();
    const text = 'The capital of France is';
    const editor = await openScratch(text);
    const uri = editor.document.uri.toString();
    select(editor, 0, text.length);
    const outcome = (await vscode.commands.executeCommand('promptscope.askModelToRate')) as ExplainOutcome;
    assert.strictEqual(outcome?.kind, 'ok', describeOutcome(outcome));
    const stored = a.result(uri)!;
    const s = stored.result.selfRating;
    assert.ok(s, 'the result carries the model’s own ratings');
    assert.deepStrictEqual(s.words, ['The', 'capital', 'of', 'France', 'is']);
    assert.ok(s.prompt.includes(`Input: ${text}`), 'the rating prompt holds the input');
    // The tiny LM continues the rating prompt with prose, not with ratings: the parse must say so.
    assert.strictEqual(s.parse.ok, false, `reply ${JSON.stringify(s.reply)}`);
    assert.ok(a.appliedTints(uri).length > 0, 'the attribution is tinted as usual');
    const france = stored.tokens.find((t) => stored.result.input.tokens[t.index].text.trim() === 'France')!;
    const hover = await hoverAt(editor, france.start + 2);
    assert.ok(hover?.includes('Model\'s own rating: its reply could not be read. The reply has no (word, importance) ratings'), hover);
    const update = a.panel().updates.at(-1);
    assert.strictEqual(update?.result?.createdAt, stored.result.createdAt);
    assert.deepStrictEqual(update?.result?.selfRating, s, 'the panel receives the ratings with the result');
  });

  it('refuses a classifier with one message naming the fix, and leaves the editor as it was', async () => {
    const a = await api();
    await setSetting('model', 'promptscope-tiny-sentiment');
    const text = 'The movie was not great.';
    const editor = await openScratch(text);
    const uri = editor.document.uri.toString();
    select(editor, 0, text.length);
    const outcome = (await vscode.commands.executeCommand('promptscope.askModelToRate')) as ExplainOutcome;
    assert.strictEqual(outcome?.kind, 'error', describeOutcome(outcome));
    assert.match(outcome.kind === 'error' ? outcome.message : '', /is a classifier\. Select a language model/);
    assert.strictEqual(a.result(uri), undefined, 'no result stored');
    assert.deepStrictEqual(a.appliedTints(uri), [], 'no tints');
    assert.strictEqual(editor.document.getText(), text);
  });

  it('across the bundled seed variants: every variant counted, dotted underline where the sign flips, mean ± sd in the hover', async () => {
    const a = await api();
    const seeds = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'models', 'promptscope-tiny-sentiment', 'seeds');
    const folders = fs.existsSync(seeds) ? fs.readdirSync(seeds).filter((n) => fs.existsSync(path.join(seeds, n, 'onnx', 'model.onnx'))) : [];
    assert.ok(folders.length >= 4, `the classifier ships at least four seed variants (${folders.join(', ')})`);
    await setSetting('model', 'promptscope-tiny-sentiment');
    await setSetting('seedVariants', ['bundled']);
    const text = 'Everyone said it would be awful, but the concert was wonderful.';
    const editor = await openScratch(text);
    const uri = editor.document.uri.toString();
    select(editor, 0, text.length);
    const outcome = await a.explain({ methods: ['occlusion'] });
    assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
    const { result, tokens } = a.result(uri)!;
    const v = result.variation!;
    assert.ok(v, 'the result carries its variation across seeds');
    assert.strictEqual(v.source, 'seed-variants');
    assert.strictEqual(v.variants.length, folders.length + 1, `the model and each variant: ${v.variants.join(', ')}`);
    const row = v.methods[0].rows[0];
    const unstable = result.input.tokens.filter((t) => !t.special && t.end > t.start && !row.stableSign[t.index]).map((t) => t.index);
    await waitFor('the dotted underlines', () => a.unstableSignMarks(uri).length === unstable.length || undefined, 10_000);
    const marks = a.unstableSignMarks(uri);
    assert.deepStrictEqual(marks.map((m) => m.tokenIndex), unstable);
    for (const m of marks) {
      const live = tokens.find((t) => t.index === m.tokenIndex)!;
      assert.deepStrictEqual([m.start, m.end], [live.start, live.end], 'the underline sits on its token');
    }
    const word = tokens.find((t) => result.input.tokens[t.index].text.trim() === 'wonderful')!;
    const hover = await hoverAt(editor, word.start + 2);
    const sign = (x: number) => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(3);
    const expected = `mean ${sign(row.mean[word.index])} ± ${row.sd[word.index].toFixed(3)} over ${folders.length + 1} seed variants`;
    assert.ok(hover?.includes(expected), `hover shows “${expected}”: ${hover}`);
  });
});
