import * as assert from 'node:assert';
import * as vscode from 'vscode';
import { api, describeOutcome, openScratch, plainText, select, setSetting, waitFor } from './helpers';

/** Three paragraphs of several sentences: coarse-to-fine has paragraphs, sentences, words and tokens to go through. */
export const LONG_PROMPT = [
  'The old lighthouse stood on the cliff above the harbour. Its keeper climbed the stairs every evening. He lit the lamp before the sun went down.',
  'One winter night a storm broke the windows of the tower. The keeper carried a lantern up the stairs. Ships in the bay saw the light and turned away from the rocks.',
  'In the morning the fishermen came to thank him. They brought bread, fish and a new pane of glass. The keeper said that the light belongs to the',
].join('\n\n');

async function hoverAt(editor: vscode.TextEditor, offset: number): Promise<string> {
  const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', editor.document.uri, editor.document.positionAt(offset))) as vscode.Hover[];
  return hovers.flatMap((h) => h.contents.map((c) => plainText(typeof c === 'string' ? c : c.value))).find((t) => t.includes('Promptscope')) ?? '';
}

describe('live results', () => {
  afterEach(async () => {
    await setSetting('maxTokensPerBatch', undefined);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('tints, legend and panel update from partial results before the final one, never cleared in between', async () => {
    const a = await api();
    const editor = await openScratch(LONG_PROMPT);
    const uri = editor.document.uri.toString();
    select(editor, 0, LONG_PROMPT.length);
    const before = a.liveUpdates().length;
    // Tints painted at each render of this document: once painted they may change, never vanish.
    const painted: number[] = [];
    const sub = a.onDidRender((u) => u === uri && painted.push(a.appliedTints(uri).length));
    const outcome = await a.explain({ methods: ['coarse-to-fine'], params: { passBudget: 400 } }).finally(() => sub.dispose());
    assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
    if (outcome.kind !== 'ok') return;
    const updates = a.liveUpdates().slice(before).filter((u) => u.documentUri === uri && u.createdAt === outcome.stored.result.createdAt);
    const partials = updates.filter((u) => u.partial);
    assert.ok(partials.length >= 2, `partial updates before the final one: ${JSON.stringify(updates.map((u) => u.partial?.unit ?? 'final'))}`);
    assert.strictEqual(updates.at(-1)?.partial, undefined, 'the last update is the final result');
    assert.ok(updates.slice(0, -1).every((u) => u.partial), 'every earlier update is partial');
    assert.ok(new Set(partials.map((u) => u.partial!.unit)).size >= 2, 'levels complete one after another');
    const firstPainted = painted.findIndex((n) => n > 0);
    assert.ok(firstPainted >= 0 && painted.slice(firstPainted).every((n) => n > 0), `tints never cleared between updates: ${painted.join(',')}`);
    assert.ok(painted.filter((n) => n > 0).length >= 3, 'painted at least twice before the final result');
    assert.ok(a.progressMessages().some((m) => /^Explaining · (paragraphs|sentences|words|tokens) · \d+\/\d+ passes/.test(m)), `progress names level and passes: ${a.progressMessages().join(' | ')}`);
    // The panel got the partial snapshots too, and ends on the final one.
    const ms = updates.map((u) => u.hostMs).sort((x, y) => x - y);
    console.log(`      ${partials.length} partial updates of ${outcome.stored.result.input.tokens.length} tokens; host time per update: median ${ms[ms.length >> 1].toFixed(1)} ms, max ${ms.at(-1)!.toFixed(1)} ms`);
    assert.strictEqual(a.result(uri)?.result.partial, undefined);
    assert.ok(!a.legendText()?.includes('partial'), `final legend: ${a.legendText()}`);
  });

  it('cancel keeps what was computed, marked partial in hover, legend and panel', async () => {
    const a = await api();
    const editor = await openScratch(LONG_PROMPT);
    const uri = editor.document.uri.toString();
    select(editor, 0, LONG_PROMPT.length);
    // Small batches and a continuation of several tokens: many rounds of refinement, seconds of work.
    await setSetting('maxTokensPerBatch', 64);
    const before = a.liveUpdates().length;
    const pending = a.explain({ methods: ['coarse-to-fine'], params: { passBudget: 5000 }, target: { kind: 'generate', tokens: 6 } });
    await waitFor('a partial result', () => a.liveUpdates().slice(before).some((u) => u.documentUri === uri && u.partial), 60_000);
    assert.ok(a.cancel(uri), 'the request was still running');
    const outcome = await pending;
    assert.deepStrictEqual(outcome, { kind: 'cancelled', reason: 'user' });
    const stored = a.result(uri);
    assert.ok(stored, 'the partial result stays');
    assert.strictEqual(stored.result.partial?.state, 'cancelled');
    assert.ok(a.appliedTints(uri).length > 0, 'its tints stay');
    assert.match(a.legendText() ?? '', /partial \(cancelled\)/);
    const token = stored.tokens.find((t) => t.end - t.start > 2)!;
    assert.match(await hoverAt(editor, token.start + 1), /partial \(cancelled\)/);
    await waitFor('the panel to get the cancelled result', () => a.panel().updates.at(-1)?.result?.partial?.state === 'cancelled' || undefined, 10_000);
  });
});
