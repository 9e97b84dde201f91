/**
 * promptscope.autoExplain: explains the last explained text of a document again when it is saved (onSave)
 * or when typing pauses in it (onIdle, after promptscope.autoExplainDelay ms). The text is the region of the
 * last request, followed through edits (explainedRegion.ts); the request keeps that run's method, target and
 * model. The last request wins: a new edit cancels a run still going on the old text.
 */
import * as vscode from 'vscode';
import { splitTrailingWhitespace } from '../core/promptTrim';
import { readConfig, SECTION } from './config';
import type { ExplainOptions, ExplainOutcome } from './explainController';
import { moveRegion, type Region } from './explainedRegion';
import { Disposable } from './lifecycle';

export type AutoExplainMode = 'off' | 'onSave' | 'onIdle';

export interface AutoExplainStats {
  /** Runs started by autoExplain, and how they ended. */
  started: number;
  finished: number;
  cancelled: number;
  failed: number;
  /** Runs still pending a pause in typing (onIdle) that were replaced by a later edit before they started. */
  debounced: number;
}

interface Remembered {
  region: Region;
  options: ExplainOptions;
  /** The region's text when the last run started (a save without changes does not run again). */
  text: string;
}

export function autoExplainMode(scope?: vscode.ConfigurationScope): AutoExplainMode {
  const v = vscode.workspace.getConfiguration(SECTION, scope).get<string>('autoExplain', 'off');
  return v === 'onSave' || v === 'onIdle' ? v : 'off';
}

export function autoExplainDelay(scope?: vscode.ConfigurationScope): number {
  const v = vscode.workspace.getConfiguration(SECTION, scope).get<number>('autoExplainDelay', 800);
  return Number.isFinite(v) ? Math.min(60_000, Math.max(100, Math.round(v))) : 800;
}

export class AutoExplain extends Disposable {
  private readonly regions = new Map<string, Remembered>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Documents whose running request was started here, with that run's number. */
  private readonly autoRunning = new Map<string, number>();
  private runs = 0;
  readonly stats: AutoExplainStats = { started: 0, finished: 0, cancelled: 0, failed: 0, debounced: 0 };

  constructor(
    private readonly explain: (editor: vscode.TextEditor, options: ExplainOptions) => Promise<ExplainOutcome>,
    private readonly cancel: (uri: string) => boolean,
  ) {
    super();
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.onChange(e)));
    this._register(vscode.workspace.onDidSaveTextDocument((doc) => this.onSave(doc)));
    this._register(vscode.workspace.onDidCloseTextDocument((doc) => this.forget(doc.uri.toString())));
    this._register({ dispose: () => [...this.timers.values()].forEach(clearTimeout) });
  }

  /** Every request that starts (by command or here) makes its text the region to re-explain. */
  remember(uri: string, text: string, offset: number, options: ExplainOptions, decoded?: { sourceLength: number }): void {
    // A run started here explains the region without its trailing whitespace: the region itself stays.
    if (options.auto && this.regions.has(uri)) return;
    // A string literal with escapes was decoded into the prompt: its source text is not the prompt, and
    // re-explaining it needs the literal found again, which only the commands do.
    if (decoded) {
      this.forget(uri);
      return;
    }
    const { explicit: _explicit, auto: _auto, mode: _mode, ...kept } = options;
    this.regions.set(uri, { region: { start: offset, end: offset + text.length }, options: kept, text });
  }

  /** The region that would be explained again (document offsets), for tests. */
  region(uri: string): Region | undefined {
    return this.regions.get(uri)?.region;
  }

  forget(uri: string): void {
    this.regions.delete(uri);
    const t = this.timers.get(uri);
    if (t) clearTimeout(t);
    this.timers.delete(uri);
  }

  private onChange(e: vscode.TextDocumentChangeEvent): void {
    const uri = e.document.uri.toString();
    const r = this.regions.get(uri);
    if (!r || !e.contentChanges.length) return;
    const moved = moveRegion(r.region, e.contentChanges);
    if (!moved.region) {
      this.forget(uri);
      return;
    }
    r.region = moved.region;
    if (!moved.changed || autoExplainMode(e.document.uri) !== 'onIdle') return;
    // The text changed: a run on the old text is out of date, and a new one starts once typing pauses.
    if (this.autoRunning.has(uri)) this.cancel(uri);
    const pending = this.timers.get(uri);
    if (pending) {
      clearTimeout(pending);
      this.stats.debounced++;
    }
    this.timers.set(uri, setTimeout(() => {
      this.timers.delete(uri);
      void this.run(e.document);
    }, autoExplainDelay(e.document.uri)));
  }

  private onSave(doc: vscode.TextDocument): void {
    const r = this.regions.get(doc.uri.toString());
    if (!r || autoExplainMode(doc.uri) !== 'onSave') return;
    if (doc.getText(this.range(doc, r.region)) === r.text) return; // nothing changed since the last run
    void this.run(doc);
  }

  private range(doc: vscode.TextDocument, region: Region): vscode.Range {
    return new vscode.Range(doc.positionAt(region.start), doc.positionAt(region.end));
  }

  private async run(doc: vscode.TextDocument): Promise<void> {
    const uri = doc.uri.toString();
    const r = this.regions.get(uri);
    const editor = vscode.window.visibleTextEditors.find((ed) => ed.document === doc);
    if (!r || !editor || doc.isClosed) return;
    const full = doc.getText(this.range(doc, r.region));
    if (!full.trim()) return;
    // Whitespace typed at the end is left out, as for a selection.
    const { kept, leftOut } = readConfig(doc.uri).keepTrailingWhitespace ? { kept: full, leftOut: '' } : splitTrailingWhitespace(full);
    this.stats.started++;
    r.text = full;
    const id = ++this.runs;
    this.autoRunning.set(uri, id);
    const outcome = await this.explain(editor, { ...r.options, auto: true, explicit: { text: kept, offset: r.region.start, ...(leftOut && { leftOut }) } });
    if (this.autoRunning.get(uri) === id) this.autoRunning.delete(uri);
    if (outcome.kind === 'ok') this.stats.finished++;
    else if (outcome.kind === 'cancelled') this.stats.cancelled++;
    else this.stats.failed++;
  }
}
