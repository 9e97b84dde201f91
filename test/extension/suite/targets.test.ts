/**
 * Gradient methods and classifier targets through the editor: integrated gradients together with occlusion
 * on a sample prompt (hover with both methods' values, the completeness gap reaching the panel, the
 * "Preparing gradients" progress of the first gradient run), and a class label of the bundled sentiment
 * classifier on samples/review.txt.
 */
import * as assert from 'node:assert';
import * as vscode from 'vscode';
import { formatScore } from '../../../src/extension/hoverText';
import { api, describeOutcome, openSample, plainText, select, waitFor } from './helpers';

async function hoverAt(editor: vscode.TextEditor, offset: number): Promise<string | undefined> {
  const pos = editor.document.positionAt(offset);
  const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', editor.document.uri, pos)) as vscode.Hover[];
  return hovers
    .flatMap((h) => h.contents.map((c) => plainText(typeof c === 'string' ? c : c.value)))
    .find((t) => t.includes('Promptscope'));
}

describe('gradient methods and targets', () => {
  it('integrated gradients with occlusion: progress, hover values of both methods, completeness gap in the panel', async () => {
    const a = await api();
    const editor = await openSample('capital.txt');
    const uri = editor.document.uri.toString();
    const text = 'The capital of France is';
    const start = editor.document.getText().indexOf(text);
    select(editor, start, start + text.length);

    const outcome = await a.explain({ methods: ['integrated-gradients', 'occlusion'] });
    assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
    const stored = a.result(uri)!;
    const { result } = stored;
    assert.deepStrictEqual(
      result.runs.map((r) => r.method),
      ['integrated-gradients', 'occlusion'],
    );
    const ig = result.runs[0];
    assert.ok(ig.diagnostics.backwardPasses > 0, 'integrated gradients ran backward passes');
    const gap = ig.diagnostics.completenessGap?.[0];
    assert.ok(gap !== undefined && Number.isFinite(gap), `a completeness gap is reported: ${JSON.stringify(ig.diagnostics)}`);

    // The gradient graph is prepared before the method runs, and the user is told so.
    const progress = a.progressMessages();
    const preparing = progress.findIndex((m) => m.startsWith('Preparing gradients'));
    assert.ok(preparing >= 0, `progress mentions preparing gradients: ${JSON.stringify(progress)}`);
    assert.ok(
      progress.slice(preparing + 1).some((m) => /%/.test(m)),
      `method progress follows the preparation: ${JSON.stringify(progress)}`,
    );

    // The tints show the first method; the hover names it and lists every method's value.
    const token = stored.tokens.find((t) => result.input.tokens[t.index].text.trim() === 'France')!;
    assert.ok(token, 'a token " France"');
    const hover = await hoverAt(editor, token.start + 2);
    assert.ok(hover, 'a Promptscope hover on " France"');
    const igValue = formatScore(ig.scores[0][token.index]);
    const occValue = formatScore(result.runs[1].scores[0][token.index]);
    assert.ok(hover.includes(`score ${igValue} (integrated-gradients)`), `hover shows the IG score ${igValue}: ${hover}`);
    assert.ok(hover.includes(`integrated-gradients ${igValue} · occlusion ${occValue}`), `hover lists both methods: ${hover}`);

    // The panel receives this result (with its gap) and acknowledges rendering it.
    const update = a.panel().updates.at(-1);
    assert.strictEqual(update?.result?.createdAt, result.createdAt);
    assert.strictEqual(update?.result?.runs[0].diagnostics.completenessGap?.[0], gap);
    await vscode.commands.executeCommand('promptscope.showPanel');
    await waitFor('the panel to render the integrated-gradients result', () => a.panel().rendered?.resultCreatedAt === result.createdAt, 30_000);

    // A second gradient run reuses the prepared graph and finishes without another long preparation.
    const again = await a.explain({ methods: ['gradient-x-input'] });
    assert.strictEqual(again.kind, 'ok', describeOutcome(again));
    assert.ok(!a.progressMessages().some((m) => /Preparing gradients.* · \d+ s$/.test(m)), `no slow preparation the second time: ${JSON.stringify(a.progressMessages())}`);
    await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
  });

  it('explains a class label of the sentiment classifier on a review', async () => {
    const a = await api();
    const editor = await openSample('review.txt');
    const uri = editor.document.uri.toString();
    const review = editor.document.lineAt(0).text;
    assert.ok(review.length > 20, 'the first line is a review');
    select(editor, 0, review.length);

    const outcome = await a.explain({ model: 'promptscope-tiny-sentiment', target: { kind: 'class', label: 'negative' } });
    assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
    const { result, tokens } = a.result(uri)!;
    assert.strictEqual(result.model.kind, 'sequence-classifier');
    assert.strictEqual(result.target.spec.kind, 'class');
    assert.strictEqual(result.target.rows.length, 1);
    assert.strictEqual(result.target.rows[0].text, 'negative');
    assert.ok(result.target.rows[0].probability > 0 && result.target.rows[0].probability < 1);
    // The classifier's special tokens ([CLS], [SEP]) cover no document text; every shown token does.
    assert.ok(tokens.length >= 10, `tokens are shown (${tokens.length})`);
    for (const t of tokens) assert.strictEqual(editor.document.getText().slice(t.start, t.end), result.input.tokens[t.index].text);
    assert.ok(a.appliedTints(uri).length > 0, 'tints are painted');
    assert.match(a.legendText() ?? '', /“negative”/);

    const cry = tokens.find((t) => result.input.tokens[t.index].text.trim().toLowerCase() === 'painful') ?? tokens[0];
    const hover = await hoverAt(editor, cry.start + 1);
    assert.ok(hover?.includes('target “negative”'), `hover names the label: ${hover}`);

    // The other label is explained too, and the two rows' probabilities add up to one.
    const positive = await a.explain({ model: 'promptscope-tiny-sentiment', target: { kind: 'class', label: 'positive' } });
    assert.strictEqual(positive.kind, 'ok', describeOutcome(positive));
    const pPos = a.result(uri)!.result.target.rows[0].probability;
    assert.ok(Math.abs(pPos + result.target.rows[0].probability - 1) < 1e-3, `p(positive) + p(negative) = 1 (${pPos} + ${result.target.rows[0].probability})`);
  });
});
