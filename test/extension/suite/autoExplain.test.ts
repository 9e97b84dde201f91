import * as assert from 'node:assert';
import * as vscode from 'vscode';
import { api, describeOutcome, openScratch, select, setSetting, waitFor } from './helpers';

const PROMPT = 'The keeper of the old lighthouse climbed the stairs every evening and lit the lamp. The ships in the bay';

async function append(editor: vscode.TextEditor, text: string): Promise<void> {
  const end = editor.document.positionAt(editor.document.getText().length);
  assert.ok(await editor.edit((b) => b.insert(end, text)));
}

describe('autoExplain', () => {
  afterEach(async () => {
    await setSetting('autoExplain', undefined);
    await setSetting('autoExplainDelay', undefined);
    await setSetting('maxTokensPerBatch', undefined);
  });

  it('onSave explains the last explained text again, followed through edits', async () => {
    const a = await api();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    assert.ok(folder, 'the tests run in a workspace');
    const file = vscode.Uri.joinPath(folder, 'auto-save-prompt.txt');
    await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(`Title line\n\n${PROMPT}\n`));
    const doc = await vscode.workspace.openTextDocument(file);
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    try {
      const start = doc.getText().indexOf('The keeper');
      select(editor, start, start + PROMPT.length);
      const first = await a.explain({ methods: ['occlusion'] });
      assert.strictEqual(first.kind, 'ok', describeOutcome(first));
      await setSetting('autoExplain', 'onSave');
      const stats = a.autoExplain();
      // Text before the prompt moves it; text typed at its end extends it.
      assert.ok(await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'A ')));
      assert.ok(await editor.edit((b) => b.insert(doc.positionAt(start + 2 + PROMPT.length), ' saw')));
      assert.deepStrictEqual(a.autoExplainRegion(doc.uri.toString()), { start: start + 2, end: start + 2 + PROMPT.length + 4 });
      assert.strictEqual(a.autoExplain().started, stats.started, 'nothing runs before the save');
      await doc.save();
      await waitFor('the run after the save', () => a.autoExplain().finished > stats.finished, 60_000);
      const stored = a.result(doc.uri.toString())!;
      assert.strictEqual(stored.result.input.text, `${PROMPT} saw`);
      assert.strictEqual(stored.offset, start + 2);
      assert.deepStrictEqual(stored.result.request.methods, ['occlusion'], 'the method of the last run');
      // A save without changes to the text does not run again.
      await doc.save();
      await new Promise((r) => setTimeout(r, 300));
      assert.strictEqual(a.autoExplain().started, stats.started + 1);
    } finally {
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      await vscode.workspace.fs.delete(file);
    }
  });

  it('onIdle: rapid edits make one run; an edit during a run cancels it and the last request wins', async () => {
    const a = await api();
    const editor = await openScratch(PROMPT);
    const uri = editor.document.uri.toString();
    try {
      select(editor, 0, PROMPT.length);
      // A slow request (small batches, a continuation): the run is still going when the next edit comes.
      await setSetting('maxTokensPerBatch', 64);
      const first = await a.explain({ methods: ['occlusion'], target: { kind: 'generate', tokens: 4 } });
      assert.strictEqual(first.kind, 'ok', describeOutcome(first));
      await setSetting('autoExplainDelay', 400);
      await setSetting('autoExplain', 'onIdle');
      const s0 = a.autoExplain();
      for (const ch of [' s', 'a', 'w', ' t']) {
        await append(editor, ch);
        await new Promise((r) => setTimeout(r, 40));
      }
      assert.strictEqual(a.autoExplain().started, s0.started, 'no run while typing');
      await waitFor('a run once typing paused', () => a.autoExplain().started > s0.started || undefined, 10_000);
      await append(editor, 'he');
      await waitFor('the last run to finish', () => a.autoExplain().finished > s0.finished || a.autoExplain().failed > s0.failed || undefined, 90_000);
      const s1 = a.autoExplain();
      assert.strictEqual(s1.started - s0.started, 2, `runs started: ${JSON.stringify(s1)}`);
      assert.strictEqual(s1.cancelled - s0.cancelled, 1, 'the run on the old text was cancelled');
      assert.strictEqual(s1.finished - s0.finished, 1, 'one final run');
      assert.ok(s1.debounced - s0.debounced >= 3, 'typing restarted the wait');
      const stored = a.result(uri)!;
      assert.strictEqual(stored.result.input.text, `${PROMPT} saw the`);
      assert.strictEqual(stored.result.partial, undefined);
      assert.strictEqual(stored.result.target.spec.kind, 'generate', 'the target of the last run');
    } finally {
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });
});
