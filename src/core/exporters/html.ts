/**
 * A self-contained HTML heatmap: no scripts, no remote content, all text escaped. Opens in any browser and
 * follows the reader's light or dark preference.
 */
import { maxAbsOf, scoreRgba } from '../colourScale';
import type { AttributionResult } from '../result';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function toHtml(result: AttributionResult): string {
  const sections = result.runs.map((run) =>
    run.scores
      .map((scores, r) => {
        const target = result.target.rows[r];
        const maxAbs = maxAbsOf(scores);
        const chips = heatmapSpans(result, scores, maxAbs);
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

function heatmapSpans(result: AttributionResult, scores: number[], maxAbs: number): string {
  const text = result.input.text;
  let out = '';
  let at = 0;
  for (const t of result.input.tokens) {
    if (t.special || t.end <= t.start) continue;
    if (t.start > at) out += escapeHtml(text.slice(at, t.start));
    out += `<span title="${escapeHtml(`${JSON.stringify(t.text)}: ${scores[t.index].toPrecision(3)}`)}" style="background:${scoreRgba(scores[t.index], maxAbs)}">${escapeHtml(t.text)}</span>`;
    at = t.end;
  }
  return out + escapeHtml(text.slice(at));
}

function show(s: string): string {
  return s.replace(/\n/g, '⏎');
}
