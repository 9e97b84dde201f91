/**
 * The editor side of the saliency panel: implements PanelHost (re-run, reveal a token, current result)
 * and forwards every change of the shown result to the panel controller in ./panel.
 */
import * as vscode from 'vscode';
import type { Granularity, TargetSpec } from '../core/request';
import type { AttributionResult } from '../core/result';
import { Disposable } from './lifecycle';
import { registerSaliencyPanel, type PanelHost, type SaliencyPanelController } from './panel';
import type { PanelSnapshot } from '../core/panelProtocol';
import { summariseRun, type CompareState } from '../core/compareProtocol';
import { diffRuns, type RunDiff } from '../core/runDiff';
import type { RunHistory } from './runHistory';
import { literalSourceMap, sliceSourceMap, type SourceMap } from '../core/sourceMap';
import { stringLiteralAt } from '../core/stringLiteral';
import { literalLanguage } from './promptText';
import { createStoredResult, documentOffsetOf, type ResultStore, type StoredResult } from './resultStore';

export interface PanelUpdate {
  documentUri: string | undefined;
  result: AttributionResult | undefined;
  offset: number;
  at: number;
}

export class PanelBridge extends Disposable implements PanelHost {
  private readonly controller: SaliencyPanelController;
  /** Document whose result the panel shows (the last explained or last active one with a result). */
  private currentUri: string | undefined;
  /** Every update sent to the panel, newest last (the test API reads it). */
  readonly updates: PanelUpdate[] = [];
  /** Earlier runs per document (set by the extension); without it the panel offers no comparison. */
  history: RunHistory | undefined;
  /** The earlier run each document's result is compared with (its createdAt). */
  private readonly comparing = new Map<string, string>();
  private diffCache: { a: AttributionResult; b: AttributionResult; diff: RunDiff } | undefined;

  constructor(
    context: vscode.ExtensionContext,
    private readonly store: ResultStore,
    private readonly rerunImpl: (stored: StoredResult, change: Parameters<PanelHost['rerun']>[0]) => Promise<void>,
  ) {
    super();
    this.controller = this._register(registerSaliencyPanel(context, this));
  }

  lastRendered(): { resultCreatedAt: string; tokenCount: number } | undefined {
    return this.controller.lastRendered();
  }

  show(): void {
    this.controller.show();
    this.push();
  }

  /** Makes `uri` the document the panel follows (if it has a result) and sends its snapshot. */
  follow(uri: string | undefined, force = false): void {
    if (uri && !this.store.get(uri)) return; // an editor without a result: keep showing the last one
    if (!force && uri === this.currentUri) return;
    this.currentUri = uri;
    this.push();
  }

  /** Sends the current snapshot (call after a new result, a clear, or an edit that moved the text). */
  push(): void {
    const cur = this.current();
    const update: PanelUpdate = { documentUri: cur?.documentUri, result: cur?.result, offset: cur?.offset ?? 0, at: Date.now() };
    this.updates.push(update);
    if (this.updates.length > 50) this.updates.shift();
    this.controller.update(update.documentUri, update.result, update.offset);
    this.controller.updateCompare(this.compareState());
  }

  compareWith(run: string | null): void {
    if (!this.currentUri) return;
    if (run === null) this.comparing.delete(this.currentUri);
    else if (this.history?.find(this.currentUri, run)) this.comparing.set(this.currentUri, run);
    this.controller.updateCompare(this.compareState());
  }

  /** The compare state last posted to the panel (the test API reads it). */
  lastCompare(): CompareState | null | undefined {
    return this.controller.lastCompare();
  }

  private compareState(): CompareState | null {
    const cur = this.current();
    if (!cur || !this.history) return null;
    const earlierRuns = this.history.list(cur.documentUri).filter((r) => r.createdAt !== cur.result.createdAt);
    const chosen = this.comparing.get(cur.documentUri);
    const before = chosen ? earlierRuns.find((r) => r.createdAt === chosen) : undefined;
    const state: CompareState = { current: cur.result.createdAt, earlier: earlierRuns.map(summariseRun) };
    // A partial result (still running, or cancelled) has scores yet to come: the comparison waits for the final one.
    if (!before || cur.result.partial) return state;
    // Edits re-post the snapshot on every keystroke; the two results themselves do not change.
    if (this.diffCache?.a !== before || this.diffCache.b !== cur.result) {
      try {
        this.diffCache = { a: before, b: cur.result, diff: diffRuns(before, cur.result) };
      } catch {
        return state; // a result without method runs has nothing to compare
      }
    }
    return { ...state, comparison: { with: before.createdAt, diff: this.diffCache.diff } };
  }

  current(): { documentUri: string; result: AttributionResult; offset: number } | undefined {
    const stored = this.currentUri ? this.store.get(this.currentUri) : undefined;
    return stored ? { documentUri: stored.documentUri, result: stored.result, offset: stored.offset } : undefined;
  }

  async rerun(change: { method?: string; target?: TargetSpec; granularity?: Granularity; logitLens?: true }): Promise<void> {
    const stored = this.currentUri ? this.store.get(this.currentUri) : undefined;
    if (!stored) {
      void vscode.window.showWarningMessage('Promptscope: there is no result to re-run. Explain a selection first.');
      return;
    }
    await this.rerunImpl(stored, change);
  }

  async restore(snapshot: PanelSnapshot): Promise<'live' | 'stale'> {
    const { documentUri, result, offset } = snapshot;
    if (!documentUri) return 'stale';
    let doc: vscode.TextDocument;
    try {
      doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === documentUri) ?? (await vscode.workspace.openTextDocument(vscode.Uri.parse(documentUri)));
    } catch {
      return 'stale';
    }
    const text = doc.getText();
    const explained = result.input.text;
    if (this.store.get(documentUri)) return 'stale'; // a newer result exists already
    const literal = decodedLiteralAt(doc, offset, explained);
    if (literal) {
      const stored = createStoredResult(documentUri, result, offset, literal);
      if (result.request.text === explained) stored.requestSourceMap = literal;
      this.store.set(stored);
      this.currentUri = documentUri;
      this.onRestored?.(stored);
      return 'live';
    }
    // Where the explained text is now: where it was, or (moved by edits) its only other place.
    const at = text.startsWith(explained, offset) ? offset : text.indexOf(explained);
    if (at < 0 || (at !== offset && text.indexOf(explained, at + 1) >= 0)) return 'stale';
    if (this.store.get(documentUri)) return 'stale'; // a newer result exists already
    const stored = createStoredResult(documentUri, result, at);
    stored.tokens = stored.tokens.filter((t) => text.slice(t.start, t.end) === result.input.tokens[t.index].text);
    this.store.set(stored);
    this.currentUri = documentUri;
    this.onRestored?.(stored);
    return 'live';
  }

  /** Called when a result came back from a reloaded panel (the extension repaints its tints). */
  onRestored: ((stored: StoredResult) => void) | undefined;

  /** Explains a stale panel's document again: its selection, or else the paragraph where the prompt was. */
  explainAgain(snapshot: PanelSnapshot): void {
    if (snapshot.documentUri) this.explainAgainImpl?.(snapshot.documentUri, snapshot.offset);
  }

  explainAgainImpl: ((documentUri: string, offset: number) => void) | undefined;

  selectRow(documentUri: string, resultCreatedAt: string, row: number): void {
    const stored = this.store.get(documentUri);
    if (!stored || stored.result.createdAt !== resultCreatedAt || row >= stored.result.target.rows.length) return;
    stored.row = row;
    this.onRowChanged?.(stored);
  }

  /** Called after the panel moved the shown target row (the extension repaints tints and the legend). */
  onRowChanged: ((stored: StoredResult) => void) | undefined;

  revealToken(documentUri: string, start: number, end: number): void {
    // A decoded literal: the panel counts characters of the decoded text; the editor needs the source's.
    const stored = this.store.get(documentUri);
    if (stored?.sourceMap) [start, end] = [documentOffsetOf(stored, start - stored.offset), documentOffsetOf(stored, end - stored.offset)];
    void this.reveal(documentUri, start, end);
  }

  private async reveal(documentUri: string, start: number, end: number): Promise<void> {
    // Offsets are document offsets: the panel adds the snapshot offset, which follows edits (push()).
    const uri = vscode.Uri.parse(documentUri);
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === documentUri);
    const doc = visible?.document ?? (await vscode.workspace.openTextDocument(uri));
    const editor = await vscode.window.showTextDocument(doc, {
      viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One,
      preserveFocus: false,
    });
    const max = doc.getText().length;
    const range = new vscode.Range(doc.positionAt(Math.min(start, max)), doc.positionAt(Math.min(end, max)));
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }
}

/**
 * After a reload: the map of a result explained from a string literal with escapes, when the literal at
 * `offset` still decodes to the explained text there (its source is not the text itself).
 */
function decodedLiteralAt(doc: vscode.TextDocument, offset: number, explained: string): SourceMap | undefined {
  const language = literalLanguage(doc.languageId);
  const text = doc.getText();
  const lit = language && stringLiteralAt(text, offset, language);
  if (!lit?.hasEscapes) return undefined;
  const k = lit.offsets.indexOf(offset);
  if (k < 0 || !lit.text.startsWith(explained, k)) return undefined;
  return sliceSourceMap(literalSourceMap(text, lit.offsets), k, k + explained.length);
}
