import * as assert from 'node:assert';
import * as vscode from 'vscode';
import { api, describeOutcome, openSample, openScratch, select, setSetting, waitFor } from './helpers';

describe('cancellation and crashes', () => {
  afterEach(() => setSetting('maxTokensPerBatch', undefined));

  it('cancel stops the work in the inference process', async () => {
    const a = await api();
    const story = await openSample('story.md');
    const text = story.document.getText();
    const start = text.indexOf('Once upon');
    const end = text.indexOf('\n', start);
    select(story, start, end);
    // Small batches and a 16-token continuation: thousands of forward passes, seconds of work.
    await setSetting('maxTokensPerBatch', 64);
    const confirmed = a.engine().cancelsConfirmed;
    const pending = a.explain({ target: { kind: 'generate', tokens: 16 } });
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(a.cancel(story.document.uri.toString()), 'a request was running');
    const t0 = Date.now();
    const outcome = await pending;
    assert.deepStrictEqual(outcome, { kind: 'cancelled', reason: 'user' });
    assert.ok(Date.now() - t0 < 1000, 'the caller is released at once');
    await waitFor('the inference process to confirm it stopped', () => a.engine().cancelsConfirmed > confirmed, 10_000);
    assert.strictEqual(a.engine().completedAfterCancel, 0);
  });

  it('a crashed inference process is replaced on the next request', async () => {
    const a = await api();
    const pid = a.engine().pid;
    assert.ok(pid, 'the inference process runs');
    const started = a.engine().processesStarted;
    process.kill(pid, 'SIGKILL');
    await waitFor('the crash to be noticed', () => !a.engine().running, 10_000);
    const editor = await openScratch('The capital of France is');
    select(editor, 0, 24);
    const outcome = await a.explain();
    assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
    assert.strictEqual(a.engine().processesStarted, started + 1);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
