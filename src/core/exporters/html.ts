/**
 * A self-contained HTML heatmap: no scripts, no remote content, all text escaped. Opens in any browser and
 * follows the reader's light or dark preference.
 */
import { maxAbsOf, scoreRgba } from '../colourScale';
import type { AttributionResult } from '../result';
import { showMarks, viewGroups } from '../viewUnits';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function toHtml(result: AttributionResult): string {
  const groups = viewGroups(result.input.text, result.input.tokens, 'token');
  const sections = result.runs.map((run) =>
    run.scores
      .map((scores, r) => {
        const target = result.target.rows[r];
        // One scale for all rows of a run, so that a row the model barely relied on stays pale.
        const maxAbs = maxAbsOf(run.scores.flat());
        const chips = heatmapSpans(result, groups, scores, maxAbs);
        const what = target.foilText !== undefined ? `${show(target.text)} rather than ${show(target.foilText)}` : show(target.text);
        return `<section><h2>${escapeHtml(run.method)} → ${escapeHtml(what)} <small>p = ${target.probability.toFixed(3)}</small></h2>
<p class="meaning">${escapeHtml(run.meaning)}</p><pre class="prompt">${chips}</pre></section>`;
      })
      .join('\n'),
  );
  const preds = result.predictions.map((p) => `<li><code>${escapeHtml(show(p.text))}</code> ${(p.probability * 100).toFixed(1)}%</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Promptscope — ${escapeHtml(result.model.id)}</title>
<style>
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
pre.prompt { white-space: pre-wrap; font: 15px/1.9 ui-monospace, monospace; }
pre.prompt span { border-radius: 3px; padding: 1px 0; }
pre.prompt .ws { opacity: .6; }
.meaning, small { opacity: .75; }
.legend span { display: inline-block; padding: 0 .5em; border-radius: 3px; }
</style></head><body>
<h1>Promptscope</h1>
<p>Model <code>${escapeHtml(result.model.id)}</code> (${escapeHtml(result.model.architecture)}). Next-token predictions:</p><ol>${preds}</ol>
<p class="legend"><span style="background:${scoreRgba(1, 1)}">raises the target</span> <span style="background:${scoreRgba(-1, 1)}">lowers the target</span></p>
${sections.join('\n')}
</body></html>
`;
}

function heatmapSpans(result: AttributionResult, groups: ReturnType<typeof viewGroups>, scores: number[], maxAbs: number): string {
  const text = result.input.text;
  let out = '';
  let at = groups[0]?.start ?? 0;
  for (const g of groups) {
    if (g.start > at) out += escapeHtml(text.slice(at, g.start));
    const score = g.tokens.reduce((a, i) => a + scores[i], 0);
    const pieces = g.tokens.length > 1 ? ` (${g.tokens.length} tokens)` : '';
    // Whitespace-only tokens get a visible marker next to the whitespace itself, so their tint shows.
    const shown = /^\s+$/.test(g.text) ? `<span class="ws">${escapeHtml(visibleWs(g.text))}</span>${escapeHtml(g.text.includes('\n') ? '\n' : '')}` : escapeHtml(showMarks(g.text));
    out += `<span title="${escapeHtml(`${JSON.stringify(g.text)}: ${score.toPrecision(3)}${pieces}`)}" style="background:${scoreRgba(score, maxAbs)}">${shown}</span>`;
    at = g.end;
  }
  return out + escapeHtml(text.slice(at));
}

function visibleWs(s: string): string {
  return s.replace(/\r?\n/g, '↵').replace(/\t/g, '→').replace(/ /g, '·');
}

function show(s: string): string {
  return s.replace(/\n/g, '⏎');
}
