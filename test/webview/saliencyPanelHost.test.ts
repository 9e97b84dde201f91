/**
 * The host side of the panel against a minimal stand-in of the `vscode` module (only what the controller
 * touches); the controller, protocol and exporters are the real ones.
 */
import { strict as assert } from 'node:assert';
import Module from 'node:module';
import type { AttributionResult } from '../../src/core/result';
import { sampleResult } from './sampleResult';

interface FakeWebview {
  html: string;
  options: unknown;
  cspSource: string;
  posted: unknown[];
  receive?: (m: unknown) => void;
}

function fakeVscode() {
  const panels: Array<{ webview: FakeWebview; dispose(): void; reveals: number }> = [];
  const written: Array<{ path: string; text: string }> = [];
  const saveDialogs: unknown[] = [];
  let serializer: { deserializeWebviewPanel(panel: unknown, state: unknown): Promise<void> } | undefined;
  const uri = (path: string) => ({ path, scheme: 'file', toString: () => `file://${path}` });
  const makePanel = () => {
    const listeners: Array<() => void> = [];
    const webview: FakeWebview & Record<string, unknown> = {
      html: '',
      options: {},
      cspSource: 'https://resource.test',
      posted: [],
      postMessage: async (m: unknown) => {
        webview.posted.push(m);
        return true;
      },
      asWebviewUri: (u: { path: string }) => ({ toString: () => `https://resource.test${u.path}` }),
      onDidReceiveMessage: (f: (m: unknown) => void) => {
        webview.receive = f;
        return { dispose() {} };
      },
    };
    const panel = {
      webview,
      reveals: 0,
      iconPath: undefined as unknown,
      reveal() {
        panel.reveals++;
      },
      onDidDispose: (f: () => void) => {
        listeners.push(f);
        return { dispose() {} };
      },
      dispose() {
        listeners.forEach((f) => f());
      },
    };
    panels.push(panel);
    return panel;
  };
  const api = {
    ViewColumn: { Beside: -2, One: 1 },
    Uri: {
      joinPath: (base: { path: string }, ...parts: string[]) => uri([base.path, ...parts].join('/').replace(/\/[^/]+\/\.\.\//g, '/')),
      parse: (s: string) => uri(s.replace(/^file:\/\//, '')),
    },
    window: {
      createWebviewPanel: () => makePanel(),
      registerWebviewPanelSerializer: (_type: string, s: typeof serializer) => {
        serializer = s;
        return { dispose() {} };
      },
      showSaveDialog: async (opts: unknown) => {
        saveDialogs.push(opts);
        return uri('/out/result.svg');
      },
      showInformationMessage: async () => undefined,
      showErrorMessage: async (m: string) => {
        throw new Error(`unexpected error message: ${m}`);
      },
    },
    workspace: {
      workspaceFolders: undefined,
      fs: {
        writeFile: async (u: { path: string }, data: Uint8Array) => {
          written.push({ path: u.path, text: new TextDecoder().decode(data) });
        },
      },
      asRelativePath: (u: { path: string }) => u.path,
    },
  };
  return { api, panels, written, saveDialogs, makePanel, serializer: () => serializer };
}

describe('saliency panel host controller', function () {
  const mod = Module as unknown as { _resolveFilename: (r: string, ...rest: unknown[]) => string };
  const originalResolve = mod._resolveFilename;
  let fake: ReturnType<typeof fakeVscode>;
  let registerSaliencyPanel: typeof import('../../src/extension/panel/index').registerSaliencyPanel;

  before(function () {
    fake = fakeVscode();
    mod._resolveFilename = function (request: string, ...rest: unknown[]) {
      return request === 'vscode' ? 'vscode' : originalResolve.call(this, request, ...rest);
    };
    require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: fake.api } as unknown as NodeJS.Module;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    registerSaliencyPanel = require('../../src/extension/panel/index').registerSaliencyPanel;
  });

  after(function () {
    mod._resolveFilename = originalResolve;
    delete require.cache.vscode;
  });

  function setup(current?: { documentUri: string; result: AttributionResult; offset: number }) {
    const calls = { reruns: [] as unknown[], reveals: [] as unknown[] };
    let rerunOutcome: Promise<void> = Promise.resolve();
    const context = { extensionUri: { path: '/ext' }, subscriptions: [] as Array<{ dispose(): void }> };
    const controller = registerSaliencyPanel(context as never, {
      rerun: async (change) => {
        calls.reruns.push(change);
        return rerunOutcome;
      },
      revealToken: (documentUri, start, end) => calls.reveals.push({ documentUri, start, end }),
      current: () => current,
    });
    return { controller, calls, context, failNextRerun: (e: Error) => (rerunOutcome = Promise.reject(e)) };
  }

  const tick = () => new Promise((r) => setTimeout(r, 0));

  it('waits for the ready handshake, then posts the current result', async function () {
    const result = sampleResult();
    const { controller, context } = setup({ documentUri: 'file:///doc.md', result, offset: 30 });
    assert.ok(context.subscriptions.includes(controller));
    controller.update('file:///doc.md', result, 30); // no panel yet: no-op
    assert.equal(fake.panels.length, 0);
    controller.show();
    const panel = fake.panels.at(-1)!;
    assert.match(panel.webview.html, /default-src 'none'/);
    assert.match(panel.webview.html, /src="https:\/\/resource.test\/ext\/dist\/webview.js"/);
    assert.deepEqual(panel.webview.posted, [], 'nothing before ready');
    panel.webview.receive!({ type: 'ready' });
    assert.deepEqual(panel.webview.posted, [{ type: 'snapshot', snapshot: { documentUri: 'file:///doc.md', offset: 30, result } }]);
    panel.webview.receive!({ type: 'rendered', resultCreatedAt: result.createdAt, tokenCount: 26 });
    assert.deepEqual(controller.lastRendered(), { resultCreatedAt: result.createdAt, tokenCount: 26 });
    controller.update(undefined, undefined, 0);
    assert.deepEqual(panel.webview.posted.at(-1), { type: 'snapshot', snapshot: null });
    controller.dispose();
  });

  it('reveals in document offsets and ignores reveals outside the prompt or malformed messages', async function () {
    const result = sampleResult();
    const { controller, calls } = setup({ documentUri: 'file:///doc.md', result, offset: 100 });
    controller.show();
    const wv = fake.panels.at(-1)!.webview;
    wv.receive!({ type: 'ready' });
    const t = result.input.tokens[8];
    wv.receive!({ type: 'reveal', tokenIndex: 8, start: t.start, end: t.end });
    wv.receive!({ type: 'reveal', tokenIndex: 8, start: 0, end: 100_000 });
    wv.receive!({ type: 'reveal', tokenIndex: 8, start: t.start });
    wv.receive!('reveal');
    assert.deepEqual(calls.reveals, [{ documentUri: 'file:///doc.md', start: 100 + t.start, end: 100 + t.end }]);
    controller.dispose();
  });

  it('runs re-runs through the host and reports running, idle and errors', async function () {
    const { controller, calls, failNextRerun } = setup({ documentUri: 'file:///doc.md', result: sampleResult(), offset: 0 });
    controller.show();
    const wv = fake.panels.at(-1)!.webview;
    wv.receive!({ type: 'ready' });
    wv.receive!({ type: 'rerun', change: { granularity: 'word' } });
    await tick();
    assert.deepEqual(calls.reruns, [{ granularity: 'word' }]);
    assert.deepEqual(wv.posted.slice(-2), [{ type: 'status', state: 'running' }, { type: 'status', state: 'idle' }]);
    failNextRerun(new Error('The selection is longer than the model context (1024 tokens).'));
    wv.receive!({ type: 'rerun', change: { method: 'gradient' } });
    await tick();
    assert.deepEqual(wv.posted.at(-1), { type: 'status', state: 'error', message: 'The selection is longer than the model context (1024 tokens).' });
    wv.receive!({ type: 'rerun', change: { method: 'rm -rf' } });
    assert.equal(calls.reruns.length, 2);
    controller.dispose();
  });

  it('exports the posted result, not anything the webview sends, through a save dialog', async function () {
    const result = sampleResult();
    const { controller } = setup({ documentUri: 'file:///work/doc.md', result, offset: 0 });
    controller.show();
    const wv = fake.panels.at(-1)!.webview;
    wv.receive!({ type: 'ready' });
    wv.receive!({ type: 'export', format: 'svg', view: { row: 2, granularity: 'token' } });
    await tick();
    await tick();
    const file = fake.written.at(-1)!;
    assert.equal(file.path, '/out/result.svg');
    assert.match(file.text, /^<\?xml/);
    assert.ok(file.text.includes('&lt;b&gt;'), 'row 2 (" <b>") drawn, escaped');
    wv.receive!({ type: 'export', format: 'json', view: { row: 0, granularity: 'token' } });
    await tick();
    await tick();
    assert.equal(JSON.parse(fake.written.at(-1)!.text).createdAt, result.createdAt);
    controller.dispose();
  });

  it('revives a panel after reload with the snapshot from the webview state', async function () {
    const result = sampleResult();
    const { controller, calls } = setup(undefined);
    const panel = fake.makePanel();
    const state = { version: 1, view: { row: 0, granularity: 'token' }, snapshot: { documentUri: 'file:///doc.md', offset: 5, result } };
    await fake.serializer()!.deserializeWebviewPanel(panel, JSON.parse(JSON.stringify(state)));
    assert.match(panel.webview.html, /<script nonce=/);
    panel.webview.receive!({ type: 'ready' });
    assert.equal((panel.webview.posted[0] as { type: string }).type, 'snapshot');
    panel.webview.receive!({ type: 'reveal', tokenIndex: 1, start: 0, end: 9 });
    assert.deepEqual(calls.reveals, [{ documentUri: 'file:///doc.md', start: 5, end: 14 }]);
    controller.dispose();
  });
});
