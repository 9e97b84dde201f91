import * as assert from 'node:assert';
import * as vscode from 'vscode';
import { api } from './helpers';

describe('activation', () => {
  it('registers every command', async () => {
    await api();
    const all = new Set(await vscode.commands.getCommands(true));
    for (const id of [
      'promptscope.explainSelection',
      'promptscope.explainWith',
      'promptscope.explainAtCursor',
      'promptscope.clear',
      'promptscope.toggleTints',
      'promptscope.showPanel',
      'promptscope.selectModel',
    ]) {
      assert.ok(all.has(id), `${id} is registered`);
    }
  });

  it('starts no inference process and loads no model when activating', async () => {
    const a = await api();
    assert.strictEqual(a.engine().processesStarted, 0);
    assert.strictEqual(a.engine().running, false);
    assert.ok(a.activationMs < 200, `activation took ${a.activationMs.toFixed(1)} ms`);
  });
});
