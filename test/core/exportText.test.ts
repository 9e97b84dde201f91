/**
 * Exports show what the panel shows: whitespace tokens visibly, byte pieces folded into their character,
 * the text between WordPiece tokens, and one colour scale across target rows.
 */
import * as assert from 'node:assert/strict';
import { toHtml } from '../../src/core/exporters/html';
import { toSvg } from '../../src/core/exporters/svg';
import type { AttributionResult } from '../../src/core/result';
import { sampleResult } from '../webview/sampleResult';

function withText(text: string, pieces: [number, number][], rowScale = [1, 1e-3]): AttributionResult {
  const base = sampleResult();
  const tokens = pieces.map(([start, end], index) => ({ index, id: index, start, end, text: text.slice(start, end), special: false }));
  const rows = base.target.rows.slice(0, rowScale.length);
  return {
    ...base,
    input: { text, tokens },
    target: { spec: { kind: 'generate', tokens: rows.length }, rows },
    runs: [{ ...base.runs[0], scores: rowScale.map((k) => tokens.map((_, i) => (i + 1) * k)) }],
  };
}

const alphas = (s: string) => [...s.matchAll(/rgba\(\d+,\d+,\d+,([\d.]+)\)/g)].map((m) => Number(m[1]));

describe('export text', function () {
  it('HTML marks a whitespace-only token visibly', function () {
    const html = toHtml(withText('Hi\nthere', [[0, 2], [2, 3], [3, 8]]));
    assert.match(html, /<span class="ws">↵<\/span>/);
  });

  it('HTML and SVG fold a zero-width piece into its character', function () {
    const r = withText('a😀b', [[0, 1], [1, 3], [3, 3], [3, 4]]);
    const html = toHtml(r);
    assert.ok(!/title="&quot;&quot;/.test(html), 'no empty span for the zero-width piece');
    assert.match(html, /title="&quot;😀&quot;: 5\.00 \(2 tokens\)/, 'the emoji carries both pieces’ scores (2 + 3)');
    const svg = toSvg(r);
    assert.equal((svg.match(/<rect x="\d+" y="\d+" width="\d+" height="\d+" rx="3"/g) ?? []).length, 3, 'three boxes: a, 😀, b');
  });

  it('SVG leaves room for the spaces between WordPiece tokens', function () {
    const r = withText('an absolute', [[0, 2], [3, 11]]);
    const xs = [...toSvg(r).matchAll(/<rect x="(\d+)" y="\d+" width="(\d+)" height="\d+" rx="3"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.equal(xs.length, 2);
    assert.ok(xs[1][0] > xs[0][0] + xs[0][1] + 2, `a space's advance between the boxes: ${JSON.stringify(xs)}`);
  });

  it('a weak output row stays pale on the shared scale (per-row on request)', function () {
    const r = withText('a b', [[0, 1], [1, 3]]);
    assert.ok(Math.max(...alphas(toSvg(r, { row: 1, matrix: false }))) < 0.01);
    assert.ok(Math.max(...alphas(toSvg(r, { row: 1, matrix: false, rowScale: 'per-row' }))) > 0.8);
    const html = toHtml(r);
    const second = html.slice(html.lastIndexOf('<section>'));
    assert.ok(Math.max(...alphas(second)) < 0.01, 'HTML row 2 is pale too');
  });
});
