import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { HubServer } from '../../runtime/hubServer';
import { api, describeOutcome, openScratch, select, setSetting, waitFor } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

async function closedPort(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

/** A hub id in the editor, against a hub-shaped server on 127.0.0.1 started by this test. */
describe('hub models in the editor', () => {
  const server = new HubServer();
  const repo = 'promptscope/editor-lm';
  let editor: vscode.TextEditor;
  let folder = '';

  before(async () => {
    server.addRepo(repo, path.join(ROOT, 'models', 'promptscope-tiny-lm'), { skip: /^(eval|reference|README)/ });
    await server.start();
    editor = await openScratch('The capital of France is');
    select(editor, 0, 24);
    await setSetting('model', repo);
  });
  after(async () => {
    await setSetting('model', undefined);
    await setSetting('hubEndpoint', undefined);
    await server.stop();
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('unreachable: one message naming the cache folder; nothing is tinted', async () => {
    const a = await api();
    await setSetting('hubEndpoint', await closedPort());
    const outcome = await a.explain();
    assert.strictEqual(outcome.kind, 'error', describeOutcome(outcome));
    const message = a.lastMessage() ?? '';
    const m = message.match(/^Promptscope could not download the model “promptscope\/editor-lm”: Could not reach .*place the model's files by hand in (\S+) \(/);
    assert.ok(m, message);
    folder = m[1];
    assert.ok(folder.includes(path.join('hub', 'promptscope', 'editor-lm', 'main')));
    assert.strictEqual(a.result(editor.document.uri.toString()), undefined);
  });

  it('shows the download in the progress notification; cancel keeps the part file; the next run resumes it', async () => {
    const a = await api();
    await setSetting('hubEndpoint', server.url);
    server.faults.slow = new Set(['onnx/model.onnx']);
    const confirmed = a.engine().cancelsConfirmed;
    const pending = a.explain();
    await waitFor('download progress', () => a.progressMessages().some((m) => /^Downloading promptscope\/editor-lm: onnx\/model\.onnx · .* of 10\.\d MB · \d+%$/.test(m) && !m.includes('· 0%')));
    assert.ok(a.cancel(editor.document.uri.toString()), 'a request was running');
    assert.deepStrictEqual(await pending, { kind: 'cancelled', reason: 'user' });
    await waitFor('the inference process to confirm it stopped', () => a.engine().cancelsConfirmed > confirmed, 10_000);
    assert.ok(fs.statSync(path.join(folder, 'onnx', 'model.onnx.part')).size > 0);
    assert.ok(!fs.existsSync(path.join(folder, 'onnx', 'model.onnx')));

    server.faults.slow = undefined;
    const n0 = server.log.length;
    const outcome = await a.explain();
    assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
    assert.ok(server.log.slice(n0).some((l) => l.url.startsWith('/storage/') && l.range), 'resumed with a Range request');
    assert.strictEqual(outcome.stored.result.model.id, repo);
    assert.ok(a.appliedTints(editor.document.uri.toString()).length > 0, 'tints are painted');
  });

  it('a fresh inference process uses the downloaded files with the hub unreachable', async () => {
    const a = await api();
    const started = a.engine().processesStarted;
    // Changing the endpoint restarts the idle inference process.
    await setSetting('hubEndpoint', await closedPort());
    await waitFor('the process to stop', () => !a.engine().running, 10_000);
    const n0 = server.log.length;
    const outcome = await a.explain();
    assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
    assert.strictEqual(a.engine().processesStarted, started + 1);
    assert.strictEqual(server.log.length, n0, 'no request');
    assert.ok(!a.progressMessages().some((m) => m.startsWith('Downloading')));
  });
});
