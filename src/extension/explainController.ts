/**
 * One explain request from editor text to painted tints: builds the request from settings, shows a
 * cancellable progress notification with an estimate, cancels an older request for the same document,
 * tracks edits made while the model runs, turns engine errors into one clear message each, and stores the
 * result. On any failure the editor is left exactly as it was.
 */
import { LAYER_METHODS, layerParamsFor } from './layerSetting';
import * as vscode from 'vscode';
import type { ExplainRequest, MethodParams, TargetSpec } from '../core/request';
import { parseResult, type AttributionResult } from '../core/result';
import { describeTooLong, type TooLongDetails } from '../core/tokenBudget';
import { cancelledResult } from '../core/partialResult';
import { defaultTargetSpec, readConfig, variationFromConfig } from './config';
import { restrictedModeNotice } from './restrictedMode';
import { EngineCallError, type EngineClient } from './engineClient';
import { Disposable } from './lifecycle';
import { promptTextFor } from './promptText';
import type { SourceMap } from '../core/sourceMap';
import { applyEdits, createStoredResult, stillMatches, truncatedMap, type ResultStore, type StoredResult } from './resultStore';

export interface ExplainOptions {
  methods?: string[];
  target?: TargetSpec;
  model?: string;
  truncateFromStart?: boolean;
  maxTokens?: number;
  /** Which text to take when nothing is selected. */
  mode?: 'selection-or-paragraph' | 'paragraph' | 'line';
  /** Explain exactly this document range instead of the selection (re-runs). */
  explicit?: { text: string; offset: number; leftOut?: string; sourceMap?: SourceMap };
  /** Method parameters (feature unit of the perturbation methods, samples, seed). */
  params?: MethodParams;
  /** Explain the text as a chat user message wrapped in the model's chat template. */
  chat?: { system?: string };
  /** Started by promptscope.autoExplain: progress in the status bar, and no message when an edit stops it. */
  auto?: boolean;
  /** Also ask the model to rate each word of the prompt itself (language models). */
  selfRate?: boolean;
  /** Also read every layer through the logit lens (decoders). */
  logitLens?: boolean;
}

export type ExplainOutcome =
  | { kind: 'ok'; stored: StoredResult }
  | { kind: 'cancelled'; reason: CancelReason }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'problem'; message: string };

export type CancelReason = 'user' | 'superseded' | 'closed' | 'edited' | 'shutdown';

interface Running {
  controller: AbortController;
  reason?: CancelReason;
}

export interface ExplainEvents {
  /** A new result was stored for a document. */
  onResult(stored: StoredResult): void;
  /** A partial result of a running request was stored (or a cancelled run's last one was marked so). */
  onPartial?(stored: StoredResult): void;
  /** A request is about to run on this text (autoExplain remembers it as the region to re-explain). */
  onStart?(uri: string, text: string, offset: number, options: ExplainOptions, decoded: { sourceLength: number } | undefined): void;
}

export class ExplainController extends Disposable {
  private readonly running = new Map<string, Running>();
  /** Last user-facing message (for the test API). */
  lastMessage: string | undefined;
  /** Progress messages of the latest request, in order (for the test API). */
  progressMessages: string[] = [];

  constructor(
    private readonly engine: EngineClient,
    private readonly store: ResultStore,
    private readonly events: ExplainEvents,
  ) {
    super();
    this._register(
      vscode.workspace.onDidCloseTextDocument((doc) => this.cancel(doc.uri.toString(), 'closed')),
    );
    this._register({ dispose: () => [...this.running.keys()].forEach((u) => this.cancel(u, 'shutdown')) });
  }

  get activeRequests(): number {
    return this.running.size;
  }

  isRunning(uri: string): boolean {
    return this.running.has(uri);
  }

  cancel(uri: string, reason: CancelReason = 'user'): boolean {
    const r = this.running.get(uri);
    if (!r) return false;
    r.reason ??= reason;
    r.controller.abort();
    return true;
  }

  async explain(editor: vscode.TextEditor, options: ExplainOptions = {}): Promise<ExplainOutcome> {
    const doc = editor.document;
    const uri = doc.uri.toString();
    const prompt = options.explicit ?? promptTextFor(editor, options.mode);
    if ('problem' in prompt) {
      this.inform('warning', prompt.problem);
      return { kind: 'problem', message: prompt.problem };
    }

    const cfg = readConfig(doc.uri);
    const restricted = await restrictedModeNotice(cfg.model);
    if (restricted) void this.inform('info', restricted);
    const request: ExplainRequest = {
      text: prompt.text,
      model: options.model ?? (cfg.model || undefined),
      ...(cfg.modelVariant !== 'auto' ? { variant: cfg.modelVariant } : {}),
      methods: options.methods?.length ? options.methods : [cfg.method],
      target: options.target ?? defaultTargetSpec(cfg),
      maxTokens: options.maxTokens ?? cfg.maxTokens,
      maxTokensPerBatch: cfg.maxTokensPerBatch,
      truncateFromStart: options.truncateFromStart,
      trust: cfg.trust,
      ...(variationFromConfig(cfg) ? { variation: variationFromConfig(cfg) } : {}),
      ...(options.params || cfg.timeBudget > 0 || layerMethodsIn(options.methods ?? [cfg.method]) ? { params: { ...(cfg.timeBudget > 0 ? { timeBudget: cfg.timeBudget } : {}), ...layerParamsFor(options.methods?.length ? options.methods : [cfg.method], cfg.layer), ...options.params } } : {}),
      ...(options.chat ? { chat: options.chat } : {}),
      ...(options.selfRate ? { selfRate: true } : {}),
      ...(options.logitLens ? { logitLens: true } : {}),
    };

    // A new request for the same document replaces the old one.
    this.cancel(uri, 'superseded');
    const running: Running = { controller: new AbortController() };
    this.running.set(uri, running);
    this.events.onStart?.(uri, prompt.text, prompt.offset, options, prompt.sourceMap && { sourceLength: prompt.sourceMap.source.length });

    // Follow edits while the model runs: edits before the text move it, edits inside it void the run.
    let offset = prompt.offset;
    let touched = false;
    const end = () => offset + (prompt.sourceMap?.source.length ?? prompt.text.length);
    const editWatch = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.toString() !== uri) return;
      for (const c of [...e.contentChanges].sort((a, b) => b.rangeOffset - a.rangeOffset)) {
        const from = c.rangeOffset;
        const to = c.rangeOffset + c.rangeLength;
        if (to <= offset) offset += c.text.length - c.rangeLength;
        else if (from >= end()) continue;
        else touched = true;
      }
      if (touched) this.cancel(uri, 'edited');
    });

    // Partial results go into the store as they arrive; the last one stays (marked cancelled) if the run stops.
    let partial: StoredResult | undefined;
    const onPartial = (value: unknown) => {
      if (touched || running.controller.signal.aborted) return;
      let result: AttributionResult;
      try {
        result = parseResult(value);
      } catch {
        return;
      }
      partial = this.storeResult(uri, doc, result, request.text, offset, prompt.sourceMap);
      if (prompt.leftOut) partial.leftOut = prompt.leftOut;
      this.events.onPartial?.(partial);
    };
    try {
      const result = await this.runWithProgress(request, running.controller.signal, onPartial, options.auto === true);
      if (touched) throw new EngineCallError('cancelled', 'edited');
      const stored = this.storeResult(uri, doc, result, request.text, offset, prompt.sourceMap);
      if (prompt.leftOut) stored.leftOut = prompt.leftOut;
      this.events.onResult(stored);
      return { kind: 'ok', stored };
    } catch (err) {
      // What a stopped run computed stays, marked partial (unless a newer result already replaced it).
      if (partial && this.store.get(uri) === partial && err instanceof EngineCallError && err.code === 'cancelled') {
        partial.result = cancelledResult(partial.result);
        this.events.onPartial?.(partial);
      }
      return this.handleFailure(err, running.reason, editor, options, request);
    } finally {
      editWatch.dispose();
      if (this.running.get(uri) === running) this.running.delete(uri);
    }
  }

  private async runWithProgress(
    request: ExplainRequest,
    signal: AbortSignal,
    onPartial: (value: unknown) => void,
    auto: boolean,
  ): Promise<AttributionResult> {
    const method = request.methods.join(' + ');
    const started = Date.now();
    const cold = !this.engine.running;
    return vscode.window.withProgress(
      {
        // Runs started by autoExplain stay out of the way, in the status bar.
        location: auto ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification,
        title: `Promptscope: ${method}`,
        cancellable: !auto,
      },
      async (progress, token) => {
        const sub = token.onCancellationRequested(() => this.cancelBySignal(signal, 'user'));
        const report = (message: string, increment?: number) => {
          this.progressMessages.push(message);
          if (this.progressMessages.length > 200) this.progressMessages.shift();
          progress.report({ message, ...(increment !== undefined && { increment }) });
        };
        this.progressMessages = [];
        report(cold ? 'starting the model…' : 'running…');
        let last = 0;
        // A phase without steps (preparing gradients) shows its elapsed time so that it never looks stuck.
        let phase: { text: string; since: number; timer: ReturnType<typeof setInterval> } | undefined;
        const endPhase = () => {
          if (phase) clearInterval(phase.timer);
          phase = undefined;
        };
        const startPhase = (text: string) => {
          endPhase();
          const since = Date.now();
          const timer = setInterval(() => {
            if (phase) report(`${phase.text} · ${formatDuration(Date.now() - phase.since)}`);
          }, 1000);
          phase = { text, since, timer };
          report(text);
        };
        try {
          return await this.engine.call(
            { op: 'explain', request },
            {
              signal,
              onPartial,
              onProgress: (done, total, message) => {
                if (done === 0 && message && /^preparing gradients/i.test(message)) {
                  startPhase('Preparing gradients (the first run on a model builds and caches its gradient graph)…');
                  return;
                }
                endPhase();
                if (message?.startsWith('Downloading ')) {
                  report(`${message} · ${total > 0 ? Math.floor((100 * done) / total) : 0}%`);
                  return;
                }
                const frac = total > 0 ? Math.min(1, done / total) : 0;
                const elapsed = Date.now() - started;
                const eta = frac > 0.02 && elapsed > 300 ? (elapsed / frac) * (1 - frac) : undefined;
                const parts = [message ?? 'running', `${Math.round(frac * 100)}%`];
                if (eta !== undefined) parts.push(`about ${formatDuration(eta)} left`);
                report(parts.join(' · '), Math.max(0, (frac - last) * 100));
                last = frac;
              },
            },
          );
        } finally {
          endPhase();
          sub.dispose();
        }
      },
    );
  }

  private cancelBySignal(signal: AbortSignal, reason: CancelReason): void {
    for (const [uri, r] of this.running) if (r.controller.signal === signal) this.cancel(uri, reason);
  }

  private storeResult(
    uri: string,
    doc: vscode.TextDocument,
    result: AttributionResult,
    requestText: string,
    offset: number,
    requestMap?: SourceMap,
  ): StoredResult {
    // Token offsets are relative to result.input.text; if the engine returned only the explained tail of a
    // truncated prompt, that tail starts later in the document.
    let base = offset;
    let map = requestMap;
    if (result.input.text !== requestText && requestText.endsWith(result.input.text)) {
      const cut = requestText.length - result.input.text.length;
      base += requestMap ? requestMap.offsets[cut] : cut;
      if (requestMap) map = truncatedMap(requestMap, requestText.length, result.input.text.length);
    }
    const stored = createStoredResult(uri, result, base, map);
    if (requestMap) stored.requestSourceMap = requestMap;
    // Keep only tokens whose characters are exactly where we think they are (a decoded literal: its source
    // is unchanged, else nothing is kept).
    const text = doc.getText();
    if (map) {
      if (!stillMatches(stored, text)) stored.tokens = [];
    } else {
      stored.tokens = stored.tokens.filter((t) => text.slice(t.start, t.end) === result.input.tokens[t.index].text);
    }
    // A later result of the same run (partial → final) keeps the target row and method the user picked meanwhile.
    const previous = this.store.get(uri);
    if (previous && previous.result.createdAt === result.createdAt) {
      stored.row = Math.min(previous.row, result.target.rows.length - 1);
      stored.run = previous.run < result.runs.length ? previous.run : 0;
    }
    this.store.set(stored);
    return stored;
  }

  private handleFailure(
    err: unknown,
    reason: CancelReason | undefined,
    editor: vscode.TextEditor,
    options: ExplainOptions,
    request: ExplainRequest,
  ): ExplainOutcome {
    const e = err instanceof EngineCallError ? err : new EngineCallError('internal', String((err as Error)?.message ?? err));
    if (e.code === 'cancelled') {
      const why = reason ?? 'user';
      if (why === 'closed') this.inform('info', 'Promptscope stopped: the document was closed while it was being explained.');
      if (why === 'edited' && !options.auto) this.inform('info', 'Promptscope stopped: the text changed while it was being explained. Run it again on the new text.');
      return { kind: 'cancelled', reason: why };
    }
    if (e.code === 'model-load' && e.details?.cacheDir) {
      // A hub download failed: the whole message, since it names the folder where files can go by hand.
      const folder = String(e.details.cacheDir);
      this.inform('error', `Promptscope could not download the model “${request.model}”: ${e.message}`, ['Copy Folder Path', 'Select Model']).then((pick) => {
        if (pick === 'Copy Folder Path') void vscode.env.clipboard.writeText(folder);
        if (pick === 'Select Model') void vscode.commands.executeCommand('promptscope.selectModel');
      });
      return { kind: 'error', code: e.code, message: e.message };
    }
    switch (e.code) {
      case 'too-long': {
        const limit = Number(e.details?.limit ?? request.maxTokens ?? 0);
        const tokens = Number(e.details?.tokens ?? 0);
        // Worded from the engine's facts, so a generate target's fed-back tokens are explained too.
        const msg =
          e.details?.binding !== undefined
            ? describeTooLong(e.details as unknown as TooLongDetails, {
                raiseLimit: 'raise the setting promptscope.maxTokens',
                truncate: 'explain only the last {n} tokens',
                shortenTarget: 'set promptscope.generateTokens to at most {n}',
              })
            : `The prompt is ${tokens || 'too many'} tokens; Promptscope explains at most ${limit || 'fewer'} here. Select less text, or explain only the last ${limit} tokens.`;
        const action = `Explain last ${limit} tokens`;
        this.inform('warning', msg, limit > 0 ? [action] : []).then((pick) => {
          if (pick === action) void this.explain(editor, { ...options, truncateFromStart: true, maxTokens: limit });
        });
        break;
      }
      case 'model-load':
      case 'unsupported-model':
        this.inform('error', `Promptscope could not load the model “${request.model ?? 'default'}”: ${firstLine(e.message)}`, [
          'Select Model',
        ]).then((pick) => pick && void vscode.commands.executeCommand('promptscope.selectModel'));
        break;
      case 'unknown-method':
      case 'gradients-unsupported':
      case 'bad-target':
        this.inform('error', `Promptscope: ${firstLine(e.message)}`, ['Explain With…']).then(
          (pick) => pick && void vscode.commands.executeCommand('promptscope.explainWith'),
        );
        break;
      case 'empty-input':
        this.inform('warning', `Promptscope: ${firstLine(e.message)}`);
        break;
      case 'crashed':
        this.inform('error', `${e.message} The next request starts it again; details are in Output › Promptscope.`);
        break;
      default:
        this.inform('error', `Promptscope failed: ${firstLine(e.message)} (details in Output › Promptscope).`);
    }
    return { kind: 'error', code: e.code, message: e.message };
  }

  /** Shows one message; resolves with the chosen action without making the caller wait for it. */
  inform(level: 'info' | 'warning' | 'error', message: string, actions: string[] = []): Thenable<string | undefined> {
    this.lastMessage = message;
    const show =
      level === 'error'
        ? vscode.window.showErrorMessage
        : level === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    return show(message, ...actions);
  }
}

/** Applies the edits of a change event to the stored result of its document; true when tints changed. */
export function trackEdits(store: ResultStore, e: vscode.TextDocumentChangeEvent): boolean {
  const stored = store.get(e.document.uri.toString());
  if (!stored || !e.contentChanges.length) return false;
  const moved = applyEdits(stored, e.contentChanges);
  return moved;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0].trim();
  return line.length > 300 ? line.slice(0, 299) + '…' : line;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return '<1 s';
  if (ms < 90_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

function layerMethodsIn(methods: readonly string[]): boolean {
  return methods.some((m) => LAYER_METHODS.has(m));
}
