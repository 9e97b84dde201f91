/**
 * Compare runs: explain a prompt, edit it, explain again; the panel is offered the earlier run and, once it
 * is chosen, receives how the prediction moved and each token's score change, checked here against the two
 * stored results directly (tokens paired by their place in the edited text, not by the diff).
 */
import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { AttributionResult } from '../../../src/core/result';
import { api, closeAll, describeOutcome, openScratch, select, waitFor } from './helpers';

describe('Compare runs', () => {
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await closeAll();
  });

  it('two runs on an edited prompt: the panel gets the prediction move and aligned score changes', async () => {
    const a = await api();
    const first = 'The capital of France is';
    const editor = await openScratch(first);
    const uri = editor.document.uri.toString();
    select(editor, 0, first.length);
    const o1 = await a.explain({ methods: ['occlusion'] });
    assert.strictEqual(o1.kind, 'ok', describeOutcome(o1));
    const before: AttributionResult = a.result(uri)!.result;

    const at = 'The capital'.length;
    const inserted = ' city';
    await editor.edit((e) => e.insert(editor.document.positionAt(at), inserted));
    const second = editor.document.getText();
    assert.strictEqual(second, 'The capital city of France is');
    select(editor, 0, second.length);
    const o2 = await a.explain({ methods: ['occlusion'] });
    assert.strictEqual(o2.kind, 'ok', describeOutcome(o2));
    const now: AttributionResult = a.result(uri)!.result;
    assert.deepStrictEqual(a.history(uri), [now.createdAt, before.createdAt], 'both runs kept, newest first');

    await vscode.commands.executeCommand('promptscope.showPanel');
    await waitFor('the panel to render the second run', () => a.panel().rendered?.resultCreatedAt === now.createdAt, 30_000);
    const offered = await waitFor('the panel to be offered the earlier run', () => (a.panel().compare?.earlier.length === 1 && a.panel().compare) || undefined);
    assert.strictEqual(offered.current, now.createdAt);
    assert.strictEqual(offered.earlier[0].id, before.createdAt);
    assert.strictEqual(offered.comparison, undefined, 'nothing compared before the user picks a run');

    a.compareWith(before.createdAt);
    const state = await waitFor('the comparison', () => a.panel().compare?.comparison);
    const d = state.diff;
    assert.strictEqual(state.with, before.createdAt);

    // The prediction: the first run's target, its probability then and now.
    const row = before.target.rows[0];
    assert.strictEqual(d.prediction.text, row.text);
    assert.strictEqual(d.prediction.before, row.probability);
    const nowRow = now.target.rows[0];
    const expectedAfter = nowRow.tokenId === row.tokenId ? nowRow.probability : now.predictions.find((p) => p.tokenId === row.tokenId)?.probability;
    assert.strictEqual(d.prediction.after, expectedAfter);

    // Inserted tokens are exactly the new text; every old token is kept, paired with the new token at its
    // shifted place, and its change is the difference of the two runs' scores.
    const text = (kind: string) => d.tokens.filter((t) => t.kind === kind).map((t) => t.text).join('');
    assert.strictEqual(text('inserted').trim(), inserted.trim());
    assert.strictEqual(text('deleted'), '');
    const oldTokens = before.input.tokens.filter((t) => !t.special);
    const kept = d.tokens.filter((t) => t.kind === 'kept' || t.kind === 'moved');
    assert.strictEqual(kept.length, oldTokens.length, 'every old token kept');
    for (const t of oldTokens) {
      const shifted = t.start >= at ? t.start + inserted.length : t.start;
      const partner = now.input.tokens.find((u) => !u.special && u.start === shifted && u.text === t.text);
      assert.ok(partner, `token ${JSON.stringify(t.text)} is in the edited prompt at ${shifted}`);
      const change = kept.find((k) => k.a === t.index);
      assert.ok(change, `a change for ${JSON.stringify(t.text)}`);
      assert.strictEqual(change.kind, 'kept');
      assert.strictEqual(change.b, partner.index);
      const expected = now.runs[0].scores[0][partner.index] - before.runs[0].scores[0][t.index];
      assert.strictEqual(change.delta, expected, `change of ${JSON.stringify(t.text)}`);
    }

    // Stop comparing: the panel is told.
    a.compareWith(null);
    await waitFor('the comparison to be withdrawn', () => a.panel().compare && !a.panel().compare!.comparison);
  });
});
