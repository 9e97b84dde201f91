/**
 * Paints stored results onto visible editors with the bucketed decoration types. Every call re-derives the
 * decorations from the store and the current settings (views are pure functions of a result), so restoring
 * an editor, changing a setting or an edit all go through the same path.
 */
import * as vscode from 'vscode';
import { readConfig } from './config';
import { Disposable } from './lifecycle';
import type { ResultStore, StoredResult } from './resultStore';
import { bucketKey, TintPalette } from './tintPalette';
import { needsBackgroundOnly, paintRuns, type PaintItem } from '../core/tintRanges';
import { tintView, type TintView } from './tintModel';

export interface AppliedTint {
  start: number;
  end: number;
  bucket: string;
  tokenIndex: number;
}

/**
 * The characters a token's tint covers: the token without its leading and trailing whitespace (byte-level
 * BPE tokens carry the space before a word, and a tint starting on that space looks shifted one column to
 * the left of the word it belongs to). A token that is all whitespace keeps its whole span. Hovers still
 * answer on the whole token.
 */
export function paintedSpan(text: string, start: number, end: number): [number, number] {
  let from = start;
  let to = end;
  while (from < to && /\s/.test(text[from])) from++;
  while (to > from && /\s/.test(text[to - 1])) to--;
  return from < to ? [from, to] : [start, end];
}

/** A decoration range as painted (several tokens of one colour, or a whole word, share one). */
export interface PaintedRange {
  start: number;
  end: number;
  bucket: string;
  tokenIndices: number[];
}

export class TintRenderer extends Disposable {
  private readonly palette = this._register(new TintPalette());
  private enabled = true;
  /** What was last painted per document URI (read by the test API and the legend). */
  readonly applied = new Map<string, AppliedTint[]>();
  /** The decoration ranges last painted per document URI. */
  readonly painted = new Map<string, PaintedRange[]>();
  private readonly viewCache = new WeakMap<StoredResult, { key: string; view: TintView }>();
  private readonly _onDidRender = this._register(new vscode.EventEmitter<string>());
  readonly onDidRender = this._onDidRender.event;

  constructor(private readonly store: ResultStore) {
    super();
  }

  get tintsEnabled(): boolean {
    return this.enabled;
  }

  setEnabled(on: boolean): void {
    this.enabled = on;
    this.renderAll();
  }

  /** Rebuilds decoration types (opacity or theme changed) and repaints. */
  rebuild(): void {
    this.palette.ensure(readConfig().opacity);
    this.renderAll(true);
  }

  renderAll(force = false): void {
    if (this.palette.ensure(readConfig().opacity)) force = true;
    for (const editor of vscode.window.visibleTextEditors) this.renderEditor(editor, force);
  }

  /** The tint view (per-token shades) for a stored result under the current settings. */
  viewFor(stored: StoredResult): TintView {
    const cfg = readConfig();
    const key = `${stored.run}|${stored.row}|${cfg.granularity}|${cfg.colourScale}|${cfg.rowScale}`;
    const cached = this.viewCache.get(stored);
    if (cached && cached.key === key) return cached.view;
    const view = tintView(stored.result, stored.run, stored.row, cfg.granularity, cfg.colourScale, cfg.rowScale);
    this.viewCache.set(stored, { key, view });
    return view;
  }

  renderEditor(editor: vscode.TextEditor, _force = false): void {
    this.palette.ensure(readConfig().opacity);
    const uri = editor.document.uri.toString();
    const stored = this.store.get(uri);
    const byBucket = new Map<string, vscode.Range[]>();
    const applied: AppliedTint[] = [];
    const painted: PaintedRange[] = [];
    if (stored && this.enabled) {
      const view = this.viewFor(stored);
      const doc = editor.document;
      const text = doc.getText();
      const live = new Map(stored.tokens.map((t) => [t.index, t]));
      const tokens = stored.result.input.tokens;
      // One paint item per unit whose visible tokens are all still in place (an edit inside a unit voids it).
      const items: (PaintItem & { tokens: number[] })[] = [];
      view.groups.forEach((g, gi) => {
        const members = g.tokens.filter((i) => !tokens[i].special && tokens[i].end > tokens[i].start);
        const liveMembers = members.map((i) => live.get(i));
        if (!members.length || liveMembers.some((t) => !t)) return;
        const bucket = view.groupShades[gi].bucket;
        items.push({
          start: Math.min(...liveMembers.map((t) => t!.start)),
          end: Math.max(...liveMembers.map((t) => t!.end)),
          key: bucket && bucketKey(bucket),
          tokens: members,
        });
      });
      for (const run of paintRuns(text, items)) {
        const line = doc.lineAt(doc.positionAt(run.start).line).text;
        const typeKey = needsBackgroundOnly(line) ? TintPalette.backgroundOnly(run.key) : run.key;
        let list = byBucket.get(typeKey);
        if (!list) byBucket.set(typeKey, (list = []));
        list.push(new vscode.Range(doc.positionAt(run.start), doc.positionAt(run.end)));
        const members = run.items.flatMap((i) => items[i].tokens);
        painted.push({ start: run.start, end: run.end, bucket: run.key, tokenIndices: members });
        for (const i of members) {
          const t = live.get(i)!;
          applied.push({ start: t.start, end: t.end, bucket: run.key, tokenIndex: i });
        }
      }
    }
    for (const [key, type] of this.palette.entries()) editor.setDecorations(type, byBucket.get(key) ?? []);
    if (stored && this.enabled) {
      this.applied.set(uri, applied);
      this.painted.set(uri, painted);
    } else {
      this.applied.delete(uri);
      this.painted.delete(uri);
    }
    this._onDidRender.fire(uri);
  }

  /** Removes tints from every visible editor showing `uri` (the store entry is removed by the caller). */
  clearDocument(uri: string): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() === uri) this.renderEditor(editor, true);
    }
    this.applied.delete(uri);
    this.painted.delete(uri);
  }
}
