import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { ExplainOutcome } from '../../../src/extension/explainController';
import { api, openSample, plainText, select, waitFor } from './helpers';

describe('Explain Selection', () => {
  let editor: vscode.TextEditor;
  let uri: string;

  before(async () => {
    editor = await openSample('capital.txt');
    uri = editor.document.uri.toString();
  });

  it('explains the selected prompt; every token range matches the document text', async () => {
    const a = await api();
    const text = 'The capital of France is';
    const start = editor.document.getText().indexOf(text);
    select(editor, start, start + text.length);
    const outcome = (await vscode.commands.executeCommand('promptscope.explainSelection')) as ExplainOutcome;
    assert.strictEqual(outcome?.kind, 'ok', JSON.stringify(outcome));
    const stored = a.result(uri);
    assert.ok(stored, 'a result is stored for the document');
    assert.strictEqual(stored.result.input.text, text);
    assert.ok(stored.tokens.length >= 4, 'tokens are shown');
    const docText = editor.document.getText();
    let covered = '';
    const resultTokens = stored.result.input.tokens;
    for (const t of stored.tokens) {
      const tok = resultTokens[t.index];
      assert.strictEqual(docText.slice(t.start, t.end), tok.text, `token ${t.index} sits on its own characters`);
      assert.strictEqual(t.start, start + tok.start);
      covered += tok.text;
    }
    assert.strictEqual(covered, text, 'the tokens cover the prompt exactly');
    const tints = a.appliedTints(uri);
    assert.ok(tints.length > 0, 'tints are painted');
    for (const t of tints) assert.ok(t.start >= start && t.end <= start + text.length, 'tints stay inside the selection');
    assert.ok(a.legendText()?.includes('“'), `legend shows the target: ${a.legendText()}`);
  });

  it('hover on a tinted token shows its score, rank and the target', async () => {
    const a = await api();
    const stored = a.result(uri)!;
    const run = stored.result.runs[0];
    const capital = stored.tokens.find((t) => stored.result.input.tokens[t.index].text.trim() === 'capital')!;
    assert.ok(capital, 'a token " capital"');
    const pos = editor.document.positionAt(capital.start + 2);
    const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', editor.document.uri, pos)) as vscode.Hover[];
    const texts = hovers.flatMap((h) => h.contents.map((c) => plainText(typeof c === 'string' ? c : c.value)));
    const ours = texts.find((t) => t.includes('Promptscope'));
    assert.ok(ours, `a Promptscope hover among: ${JSON.stringify(texts)}`);
    const score = run.scores[0][capital.index];
    const shown = (score > 0 ? '+' : '') + score.toFixed(4);
    assert.ok(ours.includes(shown), `hover shows the score ${shown}: ${ours}`);
    assert.ok(/rank \d+ of \d+/.test(ours), 'hover shows the rank');
    assert.ok(/\d+(\.\d+)?% of total/.test(ours), 'hover shows the share of the total');
    assert.ok(ours.includes('target'), 'hover names the target');
    assert.ok(ours.includes('·capital'), 'leading space is made visible');
    for (const h of hovers) {
      for (const c of h.contents) if (typeof c !== 'string' && 'isTrusted' in c) assert.ok(!c.isTrusted, 'hover is untrusted');
    }
  });

  it('sends the result to the saliency panel, which renders it', async () => {
    const a = await api();
    const stored = a.result(uri)!;
    const last = a.panel().updates.at(-1);
    assert.ok(last, 'the panel got an update');
    assert.strictEqual(last.documentUri, uri);
    assert.strictEqual(last.result?.createdAt, stored.result.createdAt);
    assert.strictEqual(last.offset, stored.offset);
    await vscode.commands.executeCommand('promptscope.showPanel');
    await waitFor('the panel to render the result', () => a.panel().rendered?.resultCreatedAt === stored.result.createdAt, 30_000);
    // Give the focus back to the prompt editor for the next tests.
    await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
  });

  it('Toggle Tints hides and shows the tints without losing the result', async () => {
    const a = await api();
    const before = a.appliedTints(uri).length;
    await vscode.commands.executeCommand('promptscope.toggleTints');
    assert.strictEqual(a.appliedTints(uri).length, 0);
    assert.ok(a.result(uri));
    await vscode.commands.executeCommand('promptscope.toggleTints');
    assert.strictEqual(a.appliedTints(uri).length, before);
  });

  it('applies view settings live (granularity)', async () => {
    const a = await api();
    const cfg = vscode.workspace.getConfiguration('promptscope');
    const byToken = a.appliedTints(uri).map((t) => t.bucket).join();
    await cfg.update('granularity', 'line', vscode.ConfigurationTarget.Global);
    try {
      await waitFor('tints at line granularity', () => {
        const tints = a.appliedTints(uri);
        // One line: every token carries the same (summed) score, so one bucket for all.
        return new Set(tints.map((t) => t.bucket)).size === 1 && tints.length > 0;
      });
    } finally {
      await cfg.update('granularity', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitFor('token granularity again', () => a.appliedTints(uri).map((t) => t.bucket).join() === byToken);
  });

  it('a new request for the same document replaces the running one', async () => {
    const a = await api();
    const text = 'The capital of France is';
    const start = editor.document.getText().indexOf(text);
    select(editor, start, start + text.length);
    const first = vscode.commands.executeCommand('promptscope.explainSelection') as Thenable<ExplainOutcome>;
    const second = vscode.commands.executeCommand('promptscope.explainSelection') as Thenable<ExplainOutcome>;
    const [o1, o2] = await Promise.all([first, second]);
    assert.deepStrictEqual(o1, { kind: 'cancelled', reason: 'superseded' });
    assert.strictEqual(o2.kind, 'ok');
    assert.ok(a.result(uri));
  });
});
