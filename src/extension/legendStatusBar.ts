/**
 * Status bar legend for the active editor's result: what is explained, its probability, and the scale
 * in words (blue = lowers the target, orange = raises it). Clicking it opens the saliency panel.
 */
import * as vscode from 'vscode';
import { readConfig } from './config';
import { ellipsis, formatPercent, formatScore, visibleWhitespace } from './hoverText';
import { Disposable } from './lifecycle';
import { partialSummary } from '../core/partialResult';
import { partialLegendText } from './partialText';
import type { ResultStore } from './resultStore';
import type { TintRenderer } from './tintRenderer';

export class LegendStatusBar extends Disposable {
  private readonly item = this._register(
    vscode.window.createStatusBarItem('promptscope.legend', vscode.StatusBarAlignment.Right, 100),
  );

  constructor(
    private readonly store: ResultStore,
    private readonly renderer: TintRenderer,
  ) {
    super();
    this.item.name = 'Promptscope legend';
    this.item.command = 'promptscope.showPanel';
  }

  /** Text currently shown (for tests); undefined when hidden. */
  shownText: string | undefined;

  refresh(): void {
    const editor = vscode.window.activeTextEditor;
    const stored = editor && this.store.get(editor.document.uri.toString());
    if (!stored) {
      this.item.hide();
      this.shownText = undefined;
      return;
    }
    const { result } = stored;
    const row = result.target.rows[stored.row] ?? result.target.rows[0];
    const run = result.runs[stored.run] ?? result.runs[0];
    const target = row ? visibleWhitespace(row.text) : '?';
    const off = this.renderer.tintsEnabled ? '' : ' (tints hidden)';
    const cfg = readConfig();
    // The status bar cannot show colours, so the scale is spelled out.
    const scale = cfg.colourScale === 'absolute' ? 'orange: larger |score|' : cfg.colourScale === 'positive' ? 'orange raises' : 'orange raises, blue lowers';
    const leftOut = stored.leftOut ? ` · trailing ${visibleWhitespace(stored.leftOut).slice(0, 3)} left out` : '';
    const partial = partialSummary(result);
    this.item.text = `$(symbol-color) ${partial ? `${partial} · ` : ''}“${ellipsis(target)}” ${row ? formatPercent(row.probability) : ''} · ${scale}${leftOut}${off}`;
    const tip = new vscode.MarkdownString(undefined, false);
    tip.isTrusted = false;
    tip.supportHtml = false;
    tip.appendMarkdown('**Promptscope**\n\n');
    if (partial) tip.appendText(`${partialLegendText(result)}\n\n`);
    tip.appendText(`Blue tokens lower, orange tokens raise the ${run?.method ?? ''} score of the target “${target}”`);
    if (row?.foilText !== undefined) tip.appendText(` vs “${visibleWhitespace(row.foilText)}”`);
    tip.appendText(` (p = ${row ? formatPercent(row.probability) : '–'}, score ${row ? formatScore(row.score) : '–'}).`);
    tip.appendMarkdown('\n\n');
    tip.appendText(
      `Model ${result.model.id} · ${cfg.granularity} granularity · ${cfg.colourScale} scale. Click for the saliency panel.`,
    );
    if (stored.leftOut) {
      tip.appendMarkdown('\n\n');
      tip.appendText(
        `The whitespace at the end of the selection (“${visibleWhitespace(stored.leftOut)}”) was left out of the prompt: invisible tokens there can take most of the score. The setting promptscope.keepTrailingWhitespace keeps it.`,
      );
    }
    this.item.tooltip = tip;
    this.shownText = this.item.text;
    this.item.show();
  }
}
