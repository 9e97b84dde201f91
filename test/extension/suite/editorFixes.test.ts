/**
 * What a new user meets in the first hour: right-to-left and joining scripts tinted whole, trailing
 * whitespace left out of the prompt, binary text refused before the model sees it, Explain Selection
 * With… keeping the current model on Enter and offering its targets, and model folders checked before use.
 */
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, describeOutcome, openSample, openScratch, plainText, select, setSetting, waitFor } from './helpers';

/** Presses Enter in whatever quick pick is open until `work` settles (as a user accepting every default). */
async function acceptEverything<T>(work: Thenable<T>): Promise<T> {
  let done = false;
  const result = Promise.resolve(work).finally(() => (done = true));
  while (!done) {
    await new Promise((r) => setTimeout(r, 400));
    if (!done) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  }
  return result;
}

async function hoverText(editor: vscode.TextEditor, offset: number): Promise<string> {
  const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', editor.document.uri, editor.document.positionAt(offset))) as vscode.Hover[];
  return hovers.flatMap((h) => h.contents.map((c) => plainText(typeof c === 'string' ? c : c.value))).find((t) => t.includes('Promptscope')) ?? '';
}

describe('first-hour fixes', () => {
  afterEach(async () => {
    await setSetting('model', undefined);
    await setSetting('keepTrailingWhitespace', undefined);
    // Revert before closing: closing an edited untitled editor would wait on a save prompt.
    for (let i = 0; i < 10 && vscode.window.activeTextEditor; i++) await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('tints each Arabic and Hebrew word as one range and says so in the hover', async () => {
    const a = await api();
    const text = 'عاصمة فرنسا هي باريس\nהבירה של צרפת היא';
    const editor = await openScratch(text + '\n');
    select(editor, 0, text.length);
    const outcome = await a.explain();
    assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
    const uri = editor.document.uri.toString();
    const { result } = a.result(uri)!;
    const words = [...text.matchAll(/\S+/g)].map((m) => ({ start: m.index!, end: m.index! + m[0].length }));
    // The tokenizer splits inside these words, so keeping them whole is the renderer's doing.
    const inside = result.input.tokens.filter((t) => t.end > t.start && words.some((w) => t.start > w.start && t.start < w.end));
    assert.ok(inside.length > 0, 'some token starts inside a word');
    const ranges = a.paintedRanges(uri);
    assert.ok(ranges.length > 0, 'tints are painted');
    for (const r of ranges) {
      for (const edge of [r.start, r.end]) {
        assert.ok(!words.some((w) => edge > w.start && edge < w.end), `range ${r.start}-${r.end} (${JSON.stringify(text.slice(r.start, r.end))}) has no edge inside a word`);
      }
    }
    const split = words.find((w) => inside.some((t) => t.start > w.start && t.start < w.end))!;
    const hover = await hoverText(editor, split.start + 1);
    assert.match(hover, /(Arabic|Hebrew) word tinted as one range of \d+ tokens/, hover);
  });

  it('leaves trailing whitespace out of the prompt by default and says so in the legend', async () => {
    const a = await api();
    const editor = await openScratch('The capital of France is\n\n');
    const uri = editor.document.uri.toString();
    await vscode.commands.executeCommand('editor.action.selectAll');
    const outcome = await a.explain();
    assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
    assert.strictEqual(a.result(uri)!.result.input.text, 'The capital of France is');
    assert.match(a.legendText() ?? '', /trailing ⏎⏎ left out/);

    await setSetting('keepTrailingWhitespace', true);
    await vscode.commands.executeCommand('editor.action.selectAll');
    const kept = await a.explain();
    assert.strictEqual(kept.kind, 'ok', describeOutcome(kept));
    assert.strictEqual(a.result(uri)!.result.input.text, 'The capital of France is\n\n');
    assert.doesNotMatch(a.legendText() ?? '', /left out/);
  });

  it('refuses binary-looking text before the model sees it', async () => {
    const a = await api();
    // Bytes that are not UTF-8 decode to U+FFFD; no NUL anywhere.
    const bytes = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 131 + 7) % 254 + 1));
    const editor = await openScratch(new TextDecoder().decode(bytes));
    await vscode.commands.executeCommand('editor.action.selectAll');
    const calls = a.engine().calls;
    const outcome = await a.explain();
    assert.strictEqual(outcome.kind, 'problem', describeOutcome(outcome));
    assert.match(a.lastMessage() ?? '', /binary/);
    assert.strictEqual(a.engine().calls, calls, 'nothing was sent to the inference process');
    assert.ok(!a.result(editor.document.uri.toString()));
  });

  it('Explain Selection With… keeps the current model on Enter and offers its class labels', async () => {
    const a = await api();
    await setSetting('model', 'promptscope-tiny-sentiment');
    const editor = await openSample('review.txt');
    const uri = editor.document.uri.toString();
    select(editor, 0, editor.document.lineAt(0).text.length);
    await acceptEverything(vscode.commands.executeCommand('promptscope.explainWith'));
    const stored = await waitFor('a result for the review', () => a.result(uri), 60_000);
    assert.strictEqual(stored.result.model.kind, 'sequence-classifier', `explained with ${stored.result.model.id}`);
    assert.strictEqual(stored.result.target.spec.kind, 'class', 'the first target offered to a classifier is its predicted class');
  });

  it('refuses a folder that is not a model before saving it', async () => {
    const a = await api();
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-empty-model-'));
    await vscode.workspace.getConfiguration('promptscope').update('model', empty, vscode.ConfigurationTarget.Workspace);
    try {
      // Enter keeps the (current) empty folder: the check refuses it, so nothing is saved.
      const saved = await acceptEverything(vscode.commands.executeCommand('promptscope.selectModel'));
      assert.strictEqual(saved, undefined, 'Select Model… saved nothing');
      assert.ok(a.engine().running, 'the check ran in the inference process');
    } finally {
      await vscode.workspace.getConfiguration('promptscope').update('model', undefined, vscode.ConfigurationTarget.Workspace);
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
