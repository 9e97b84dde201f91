/**
 * Hover on a tinted token: its text (whitespace made visible), score, rank, share of the total absolute
 * attribution, the target and its probability, and every method's value when several ran.
 * Token and target text are user data: the MarkdownString is untrusted, without HTML or command links, and
 * user text only ever goes through appendText (which escapes Markdown).
 */
import { completenessNote } from '../core/completenessNote';
import * as vscode from 'vscode';
import { readConfig } from './config';
import { showMarks } from '../core/viewUnits';
import { trustHeadline, variationHeadline } from '../core/trust/trustText';
import { partialHoverText } from './partialText';
import { selfRatingHeadline } from '../core/trust/selfRatingView';
import { counterfactualHoverText, formatPercent, formatScore, spanLevelText, visibleWhitespace } from './hoverText';
import type { ResultStore } from './resultStore';
import { ranksAndShares } from './tintModel';
import { paintedSpan, type TintRenderer } from './tintRenderer';

export class TokenHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly store: ResultStore,
    private readonly renderer: TintRenderer,
  ) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const uri = document.uri.toString();
    const stored = this.store.get(uri);
    if (!stored || !this.renderer.tintsEnabled) return undefined;
    const live = this.store.tokenAt(uri, document.offsetAt(position));
    if (!live) return undefined;
    const { result } = stored;
    const token = result.input.tokens[live.index];
    const run = result.runs[stored.run] ?? result.runs[0];
    const rowIndex = Math.min(stored.row, result.target.rows.length - 1);
    const row = result.target.rows[rowIndex];
    if (!run || !row) return undefined;

    const scores = run.scores[rowIndex];
    const visible = result.input.tokens.map((t) => !t.special && t.end > t.start);
    const { rank, share, count } = ranksAndShares(scores, visible);

    const md = new vscode.MarkdownString(undefined, false);
    md.isTrusted = false;
    md.supportHtml = false;
    md.supportThemeIcons = false;

    md.appendMarkdown('**Promptscope** — token ');
    md.appendText(`“${visibleWhitespace(showMarks(token.text))}”`);
    md.appendMarkdown(`\n\n`);
    md.appendText(
      `score ${formatScore(scores[live.index])} (${run.method}) · rank ${rank[live.index]} of ${count} · ` +
        `${formatPercent(share[live.index])} of total |attribution|`,
    );
    const level = spanLevelText(run.diagnostics.spanLevels?.[live.index]);
    if (level) md.appendText(`\n${level}`);
    const partial = partialHoverText(result, stored.run, live.index);
    if (partial) md.appendText(`\n${partial}`);
    const cfg = readConfig();
    const view = this.renderer.viewFor(stored);
    const shade = view.shades[live.index];
    if (cfg.granularity !== 'token') {
      if (shade) md.appendText(`\n${cfg.granularity} score ${formatScore(shade.score)}`);
    } else if (shade && view.groups[shade.group]?.tokens.length > 1) {
      const n = view.groups[shade.group].tokens.length;
      const script = view.groupShades[shade.group]?.wholeWordScript;
      md.appendText(
        script
          ? `\n${script.replace(/_/g, ' ')} word tinted as one range of ${n} tokens (a tint boundary inside it would break how its letters join): summed score ${formatScore(shade.score)}`
          : `\ntinted as one character with ${n - 1} more piece${n > 2 ? 's' : ''} that cover no character of their own: summed score ${formatScore(shade.score)}`,
      );
    }
    md.appendMarkdown('\n\n');
    md.appendText(`target “${visibleWhitespace(row.text)}”`);
    if (row.foilText !== undefined) md.appendText(` vs “${visibleWhitespace(row.foilText)}”`);
    md.appendText(` · p = ${formatPercent(row.probability)}`);
    if (result.target.rows.length > 1) md.appendText(` · row ${rowIndex + 1} of ${result.target.rows.length}`);

    if (result.runs.length > 1) {
      md.appendMarkdown('\n\n');
      md.appendText(
        result.runs.map((r) => `${r.method} ${formatScore(r.scores[rowIndex]?.[live.index] ?? NaN)}`).join(' · '),
      );
    }
    if (run.meaning) {
      md.appendMarkdown('\n\n');
      md.appendText(run.meaning);
    }
    const spread = variationHeadline(result, run.method, rowIndex, live.index);
    if (spread) {
      md.appendMarkdown('\n\n');
      md.appendText(spread);
    }
    const ownRating = selfRatingHeadline(result, live.index);
    if (ownRating) {
      md.appendMarkdown('\n\n');
      md.appendText(ownRating);
    }
    const faithfulness = trustHeadline(result, run.method, rowIndex);
    if (faithfulness) {
      md.appendMarkdown('\n\n');
      md.appendText(`Faithfulness: ${faithfulness}`);
    }
    const edits = counterfactualHoverText(result.counterfactuals, live.index);
    if (edits) {
      md.appendMarkdown('\n\n');
      md.appendText(edits);
    }
    const gapNote = completenessNote(run, rowIndex);
    if (gapNote) {
      md.appendMarkdown('\n\n');
      md.appendText(gapNote);
    }
    // Highlight what the tint covers (the token without its leading space) when the pointer is on it.
    const offset = document.offsetAt(position);
    const tokenText = document.getText(new vscode.Range(document.positionAt(live.start), document.positionAt(live.end)));
    const [lead, trail] = paintedSpan(tokenText, 0, tokenText.length);
    const [from, to] = [live.start + lead, live.start + trail];
    const [start, end] = offset >= from && offset < to ? [from, to] : [live.start, live.end];
    const range = new vscode.Range(document.positionAt(start), document.positionAt(end));
    return new vscode.Hover(md, range);
  }
}
