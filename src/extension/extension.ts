/**
 * Activation wires the pieces together and nothing more: no model, no onnxruntime and no child process
 * start here. The inference process is forked on the first request.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Granularity, TargetSpec } from '../core/request';
import type { PromptscopeApi } from './api';
import { readConfig, SECTION, VIEW_SETTINGS } from './config';
import { EngineClient } from './engineClient';
import { ExplainController, trackEdits, type ExplainOptions } from './explainController';
import { openWalkthroughOnFirstRun } from './firstRun';
import { LastTextEditor } from './lastTextEditor';
import { explainSample, showTokenHover } from './walkthroughCommands';
import { registerCounterfactualActions } from './counterfactualActions';
import { TokenHoverProvider } from './hoverProvider';
import { LegendStatusBar } from './legendStatusBar';
import { Disposable } from './lifecycle';
import { PanelBridge } from './panelBridge';
import { promptTextFor } from './promptText';
import { pickExplainOptions, selectModel } from './quickPicks';
import { ResultStore, stillMatches, type StoredResult } from './resultStore';
import { RunHistory } from './runHistory';
import { StallMonitor } from './stallMonitor';
import { TintRenderer } from './tintRenderer';
import { UnstableSignMarks } from './unstableSignMarks';
import { AutoExplain } from './autoExplain';
import type { LiveUpdate } from './api';

/** Workspace-state key of the saved run history (per-document earlier runs, for comparisons). */
const HISTORY_KEY = 'promptscope.runHistory';

class Promptscope extends Disposable {
  readonly store = new ResultStore();
  readonly log = this._register(vscode.window.createOutputChannel('Promptscope', { log: true }));
  readonly engine: EngineClient;
  readonly renderer = this._register(new TintRenderer(this.store));
  readonly legend = this._register(new LegendStatusBar(this.store, this.renderer));
  readonly unstableSigns = this._register(new UnstableSignMarks(this.store, this.renderer));
  readonly controller: ExplainController;
  readonly panel: PanelBridge;
  readonly stall = new StallMonitor();
  readonly history: RunHistory;
  readonly auto: AutoExplain;
  /** Every partial and final result shown, with the extension host's time to show it (newest last). */
  readonly liveUpdates: LiveUpdate[] = [];
  /** The document of the request started last: the panel follows its results, not a background run's. */
  private lastStarted: string | undefined;
  readonly lastEditor = this._register(new LastTextEditor());

  constructor(private readonly context: vscode.ExtensionContext) {
    super();
    this.history = RunHistory.fromJSON(context.workspaceState.get(HISTORY_KEY), readConfig().historySize);
    // The environment is read at every fork of the inference process: a changed execution provider stops an idle one.
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.executionProvider`) && this.controller.activeRequests === 0) this.engine.stop();
    }));
    this.engine = this._register(
      new EngineClient({
        modulePath: path.join(context.extensionPath, 'dist', 'inference.js'),
        env: () => {
          const hubEndpoint = readConfig().hubEndpoint;
          // Hub downloads land in the extension's global storage, beside the derived gradient graphs.
          return { PROMPTSCOPE_CACHE_DIR: path.join(context.globalStorageUri.fsPath, 'models'), ...(hubEndpoint && { PROMPTSCOPE_HUB_ENDPOINT: hubEndpoint }), PROMPTSCOPE_EP: readConfig().executionProvider };
        },
        onLog: (line) => this.log.info(line),
        onCrash: ({ code, signal, stderrTail }) => {
          this.log.error(`inference process exited (code ${code}, signal ${signal})\n${stderrTail}`);
          // A crash under a running request is reported by that request.
          if (this.controller.activeRequests === 0) {
            void vscode.window.showErrorMessage(
              'The Promptscope inference process stopped unexpectedly. The next request starts it again; details are in Output › Promptscope.',
            );
          }
        },
      }),
    );
    this.controller = this._register(
      new ExplainController(this.engine, this.store, {
        onResult: (stored) => this.onResult(stored),
        onPartial: (stored) => this.onPartial(stored),
        onStart: (uri, text, offset, options, decoded) => {
          this.lastStarted = uri;
          this.auto.remember(uri, text, offset, options, decoded);
        },
      }),
    );
    this.auto = this._register(new AutoExplain((editor, options) => this.controller.explain(editor, options), (uri) => this.controller.cancel(uri, 'superseded')));
    this.panel = this._register(new PanelBridge(context, this.store, (stored, change) => this.rerun(stored, change)));
    this.panel.history = this.history;
    this.panel.onRestored = (stored) => this.onResult(stored);
    this.panel.explainAgainImpl = (documentUri, offset) => void this.explainAgain(documentUri, offset);
    this.panel.onRowChanged = (stored) => {
      for (const ed of vscode.window.visibleTextEditors) if (ed.document.uri.toString() === stored.documentUri) this.renderer.renderEditor(ed, true);
      this.legend.refresh();
    };
    this.registerCommands();
    this.registerEvents();
    this._register(vscode.languages.registerHoverProvider('*', new TokenHoverProvider(this.store, this.renderer)));
    this._register(registerCounterfactualActions(this.store, (editor, options) => this.controller.explain(editor, options)));
    void this.setHasResult();
  }

  private registerCommands(): void {
    const cmd = (id: string, fn: (...args: unknown[]) => unknown) =>
      this._register(vscode.commands.registerCommand(id, fn));
    cmd('promptscope.explainSelection', () => this.explainActive({}));
    cmd('promptscope.explainAtCursor', () => this.explainActive({ mode: 'paragraph' }));
    cmd('promptscope.explainAsChat', () => {
      const system = vscode.workspace.getConfiguration('promptscope').get<string>('chatSystemPrompt', '').trim();
      return this.explainActive({ chat: system ? { system } : {} });
    });
    cmd('promptscope.askModelToRate', () => this.explainActive({ selfRate: true }));
    // The walkthrough's button passes 'walkthrough': run there, it acts on the last text editor.
    cmd('promptscope.explainWith', async (from?: unknown) => {
      const editor = await this.activeEditorOrWarn(from === 'walkthrough');
      if (!editor) return;
      // Take the text now: the cursor may move while the options are being chosen.
      const prompt = promptTextFor(editor);
      if ('problem' in prompt) {
        void this.controller.inform('warning', prompt.problem);
        return;
      }
      const version = editor.document.version;
      const choice = await pickExplainOptions(this.engine);
      if (!choice) return;
      if (editor.document.isClosed || (editor.document.version !== version && editor.document.getText(prompt.range) !== (prompt.sourceMap?.source ?? prompt.text))) {
        void this.controller.inform('info', 'Promptscope: the text changed while the options were being chosen. Run Explain Selection With… again.');
        return;
      }
      await this.controller.explain(editor, { ...choice, explicit: { text: prompt.text, offset: prompt.offset, leftOut: prompt.leftOut, sourceMap: prompt.sourceMap } });
    });
    cmd('promptscope.clear', () => this.clear());
    cmd('promptscope.toggleTints', () => {
      this.renderer.setEnabled(!this.renderer.tintsEnabled);
      this.legend.refresh();
    });
    cmd('promptscope.showPanel', () => {
      this.panel.show();
    });
    cmd('promptscope.selectModel', () => selectModel(this.engine));
    // The walkthrough's buttons.
    cmd('promptscope.explainSample', () => explainSample(() => this.explainActive({})));
    cmd('promptscope.showTokenHover', () => showTokenHover(this.renderer.painted));
  }

  private registerEvents(): void {
    this._register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!trackEdits(this.store, e)) return;
        const uri = e.document.uri.toString();
        for (const ed of vscode.window.visibleTextEditors) if (ed.document === e.document) this.renderer.renderEditor(ed);
        if (this.panel.current()?.documentUri === uri) this.panel.push();
      }),
    );
    this._register(vscode.window.onDidChangeVisibleTextEditors(() => this.renderer.renderAll()));
    this._register(
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        this.legend.refresh();
        void this.setHasResult();
        if (ed) this.panel.follow(ed.document.uri.toString());
      }),
    );
    this._register(
      vscode.workspace.onDidOpenTextDocument((doc) => {
        // A document reopened after it changed elsewhere: its old result no longer describes its text.
        const uri = doc.uri.toString();
        const stored = this.store.get(uri);
        const text = doc.getText();
        if (stored && !stillMatches(stored, text)) {
          this.forget(uri);
        }
      }),
    );
    this._register(
      vscode.workspace.onDidCloseTextDocument((doc) => {
        // Untitled text is gone for good once closed (and its name is reused by the next untitled file).
        if (doc.uri.scheme === 'untitled') this.forget(doc.uri.toString());
      }),
    );
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) return;
        // The inference process reads the hub endpoint when it starts: start a fresh one when idle.
        if (e.affectsConfiguration(`${SECTION}.hubEndpoint`) && this.controller.activeRequests === 0) this.engine.stop();
        if (e.affectsConfiguration(`${SECTION}.historySize`)) {
          this.history.setLimit(readConfig().historySize);
          this.saveHistory();
          this.panel.push();
        }
        if (VIEW_SETTINGS.some((s) => e.affectsConfiguration(s))) {
          this.renderer.renderAll(true);
          this.legend.refresh();
        }
      }),
    );
    this._register(vscode.window.onDidChangeActiveColorTheme(() => this.renderer.rebuild()));
  }

  async activeEditorOrWarn(orLast = false): Promise<vscode.TextEditor | undefined> {
    const editor = vscode.window.activeTextEditor ?? (orLast ? await this.lastEditor.current() : undefined);
    if (!editor) {
      this.controller.inform('warning', 'Promptscope: open a text file and select a prompt first.');
    }
    return editor;
  }

  async explainActive(options: ExplainOptions) {
    const editor = await this.activeEditorOrWarn();
    if (!editor) return { kind: 'problem' as const, message: 'no active editor' };
    return this.controller.explain(editor, options);
  }

  private onResult(stored: StoredResult): void {
    this.history.add(stored.documentUri, stored.result);
    this.saveHistory();
    const t0 = performance.now();
    this.show(stored);
    this.recordUpdate(stored, performance.now() - t0);
  }

  /** A partial result arrived (or a cancelled run's was marked): repaint in place, like a final one. */
  private onPartial(stored: StoredResult): void {
    const t0 = performance.now();
    this.show(stored);
    this.recordUpdate(stored, performance.now() - t0);
  }

  private recordUpdate(stored: StoredResult, hostMs: number): void {
    this.liveUpdates.push({ documentUri: stored.documentUri, createdAt: stored.result.createdAt, ...(stored.result.partial ? { partial: { ...stored.result.partial, pending: undefined } } : {}), hostMs, tokens: stored.result.input.tokens.length });
    if (this.liveUpdates.length > 200) this.liveUpdates.shift();
  }

  private show(stored: StoredResult): void {
    for (const ed of vscode.window.visibleTextEditors) {
      if (ed.document.uri.toString() === stored.documentUri) this.renderer.renderEditor(ed, true);
    }
    this.legend.refresh();
    // Streamed updates of a run in another document (still going in the background) leave the panel alone.
    const shown = this.panel.current()?.documentUri;
    if (!shown || shown === stored.documentUri || !this.lastStarted || this.lastStarted === stored.documentUri) this.panel.follow(stored.documentUri, true);
    void this.setHasResult();
  }

  private async explainAgain(documentUri: string, offset: number): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(documentUri));
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    if (editor.selection.isEmpty) {
      const at = doc.positionAt(Math.min(offset, doc.getText().length));
      editor.selection = new vscode.Selection(at, at);
    }
    await this.controller.explain(editor, {});
  }

  private saveHistory(): void {
    void this.context.workspaceState.update(HISTORY_KEY, this.history.toJSON());
  }

  private forget(uri: string): void {
    // Untitled documents: their name is reused by the next one, whose runs must not be compared with these.
    if (uri.startsWith('untitled:') && this.history.delete(uri)) this.saveHistory();
    if (!this.store.delete(uri)) return;
    this.renderer.clearDocument(uri);
    this.legend.refresh();
    if (this.panel.current() === undefined) this.panel.push();
    void this.setHasResult();
  }

  private clear(): void {
    for (const uri of this.store.uris()) {
      this.controller.cancel(uri);
      this.store.delete(uri);
      this.renderer.clearDocument(uri);
    }
    this.renderer.renderAll(true);
    this.legend.refresh();
    this.panel.push();
    void this.setHasResult();
  }

  private async rerun(
    stored: StoredResult,
    change: { method?: string; target?: TargetSpec; granularity?: Granularity; logitLens?: true },
  ): Promise<void> {
    if (change.granularity) {
      await vscode.workspace.getConfiguration(SECTION).update('granularity', change.granularity, vscode.ConfigurationTarget.Global);
      this.panel.push();
    }
    if (!change.method && !change.target && !change.logitLens) return;
    const { request, input } = stored.result;
    // Where the originally requested text starts now (the result may cover only its truncated tail).
    const reqMap = stored.requestSourceMap;
    const cut = request.text.length - input.text.length;
    const start = stored.offset - (reqMap ? reqMap.offsets[cut] : cut);
    const uri = vscode.Uri.parse(stored.documentUri);
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === stored.documentUri);
    const editor =
      visible ??
      (await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), {
        preserveFocus: true,
        viewColumn: vscode.ViewColumn.One,
      }));
    const doc = editor.document;
    const source = reqMap?.source ?? request.text;
    const now = doc.getText(new vscode.Range(doc.positionAt(start), doc.positionAt(start + source.length)));
    if (now !== source) {
      this.controller.inform('warning', 'Promptscope: the explained text has changed since. Select it and explain again.');
      return;
    }
    await this.controller.explain(editor, {
      explicit: { text: request.text, offset: start, leftOut: stored.leftOut, ...(reqMap && { sourceMap: reqMap }) },
      methods: change.method ? [change.method] : request.methods,
      target: change.target ?? request.target,
      model: request.model,
      ...(request.chat ? { chat: request.chat } : {}),
      truncateFromStart: request.truncateFromStart,
      maxTokens: request.maxTokens,
      ...(change.logitLens || request.logitLens ? { logitLens: true } : {}),
    });
  }

  private async setHasResult(): Promise<void> {
    const ed = vscode.window.activeTextEditor;
    const has = !!ed && !!this.store.get(ed.document.uri.toString());
    await vscode.commands.executeCommand('setContext', 'promptscope.hasResult', has || this.store.uris().length > 0);
  }

  api(activationMs: number): PromptscopeApi {
    return {
      activationMs,
      explain: (options) => this.explainActive(options ?? {}),
      cancel: (uri) => this.controller.cancel(uri, 'user'),
      result: (uri) => this.store.get(uri),
      appliedTints: (uri) => this.renderer.applied.get(uri) ?? [],
      unstableSignMarks: (uri) => this.unstableSigns.marked.get(uri) ?? [],
      paintedRanges: (uri) => this.renderer.painted.get(uri) ?? [],
      onDidRender: this.renderer.onDidRender,
      panel: () => ({ updates: this.panel.updates, rendered: this.panel.lastRendered(), compare: this.panel.lastCompare() }),
      history: (uri) => this.history.list(uri).map((r) => r.createdAt),
      compareWith: (run) => this.panel.compareWith(run),
      engine: () => ({ ...this.engine.stats, running: this.engine.running, pid: this.engine.pid }),
      lastMessage: () => this.controller.lastMessage,
      progressMessages: () => [...this.controller.progressMessages],
      legendText: () => this.legend.shownText,
      startStallMonitor: () => this.stall.start(),
      stopStallMonitor: () => this.stall.stop(),
      stallCpuMs: () => this.stall.maxStallCpuMs,
      liveUpdates: () => [...this.liveUpdates],
      autoExplain: () => ({ ...this.auto.stats }),
      autoExplainRegion: (uri) => this.auto.region(uri),
    };
  }
}

export function activate(context: vscode.ExtensionContext): PromptscopeApi {
  const t0 = performance.now();
  const app = new Promptscope(context);
  context.subscriptions.push(app);
  openWalkthroughOnFirstRun(context);
  return app.api(performance.now() - t0);
}

export function deactivate(): void {
  /* everything is disposed through context.subscriptions */
}
