/**
 * A dotted underline on tokens whose attribution changes sign between variants (seed variants, method
 * seeds or baselines; result.variation). One decoration type, repainted whenever the tints are.
 */
import * as vscode from 'vscode';
import { unstableSignTokens } from '../core/trust/trustText';
import { Disposable } from './lifecycle';
import type { ResultStore } from './resultStore';
import type { TintRenderer } from './tintRenderer';

export class UnstableSignMarks extends Disposable {
  private readonly type = this._register(
    vscode.window.createTextEditorDecorationType({
      textDecoration: 'underline dotted',
      overviewRulerColor: undefined,
    }),
  );
  /** Ranges last marked per document URI (read by the test API). */
  readonly marked = new Map<string, { start: number; end: number; tokenIndex: number }[]>();

  constructor(private readonly store: ResultStore, private readonly renderer: TintRenderer) {
    super();
    this._register(renderer.onDidRender((uri) => this.paint(uri)));
  }

  private paint(uri: string): void {
    const stored = this.store.get(uri);
    const marks: { start: number; end: number; tokenIndex: number }[] = [];
    if (stored && this.renderer.tintsEnabled) {
      const run = stored.result.runs[stored.run] ?? stored.result.runs[0];
      const live = new Map(stored.tokens.map((t) => [t.index, t]));
      for (const i of run ? unstableSignTokens(stored.result, run.method, stored.row) : []) {
        const t = live.get(i);
        if (t) marks.push({ start: t.start, end: t.end, tokenIndex: i });
      }
    }
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() !== uri) continue;
      const doc = editor.document;
      editor.setDecorations(this.type, marks.map((m) => new vscode.Range(doc.positionAt(m.start), doc.positionAt(m.end))));
    }
    if (marks.length) this.marked.set(uri, marks);
    else this.marked.delete(uri);
  }
}
