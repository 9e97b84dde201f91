/** The SVG heatmap exporter: well-formed, escaped, coloured by sign, faithful to the view options. */
import { strict as assert } from 'node:assert';
import { escapeXml, toSvg } from '../../src/core/exporters/svg';
import { sampleResult } from './sampleResult';

/** Text outside tags must not contain markup characters; all tags must be ones the exporter writes. */
function assertOnlyOwnTags(svg: string): void {
  const tags = new Set([...svg.matchAll(/<\/?([A-Za-z][\w:-]*)/g)].map((m) => m[1]));
  for (const t of tags) assert.ok(['svg', 'title', 'style', 'rect', 'text', 'g'].includes(t), `unexpected element <${t}>`);
}

describe('SVG exporter', function () {
  it('escapes markup in tokens, targets, model id and meaning', function () {
    const r = sampleResult();
    r.model.id = 'evil"><script>alert(3)</script>';
    r.runs[0].meaning = 'a & b <c>';
    r.target.rows[0].text = "</text><image href='x' onerror='alert(4)'/>";
    const svg = toSvg(r);
    assertOnlyOwnTags(svg);
    assert.ok(!svg.includes('<script'));
    assert.ok(!svg.includes('<img'));
    assert.ok(!svg.includes('<image'));
    assert.ok(svg.includes('&lt;script&gt;'));
    assert.ok(svg.includes('a &amp; b &lt;c&gt;'));
    assert.ok(svg.includes('evil&quot;&gt;'));
  });

  it('drops characters XML cannot carry', function () {
    assert.equal(escapeXml('a\u0000b\u0007c\uD800d\tok'), 'a\uFFFDb\uFFFDc\uFFFDd\tok');
    assert.equal(escapeXml('😀 é'), '😀 é');
  });

  it('is one svg document with a title, legend and a tinted box per visible token', function () {
    const r = sampleResult();
    const svg = toSvg(r);
    assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    const visibleTokens = r.input.tokens.filter((t) => !t.special).length;
    assert.equal((svg.match(/<g><title>/g) ?? []).length, visibleTokens);
    assert.ok(svg.includes('rgba(230,97,1,'), 'positive scores are warm');
    assert.ok(svg.includes('rgba(33,102,172,'), 'negative scores are cool');
    assert.ok(svg.includes('source × target'), 'several target rows add the matrix');
    assert.equal(toSvg(r, { matrix: false }).includes('source × target'), false);
  });

  it('follows the method, row and granularity it is given', function () {
    const r = sampleResult();
    assert.ok(toSvg(r, { method: 'integrated-gradients' }).includes('integrated-gradients · target: &quot; Le&quot;'));
    assert.ok(toSvg(r, { row: 2 }).includes('target: &quot; &lt;b&gt;&quot;'));
    const lines = toSvg(r, { granularity: 'line' });
    assert.equal((lines.match(/<g><title>/g) ?? []).length, r.input.text.split('\n').length);
    // Out-of-range rows are clamped rather than failing.
    assert.ok(toSvg(r, { row: 99 }).includes('target: &quot;.\\n&quot;'));
  });

  it('draws a result with no runs or no rows without throwing', function () {
    const r = sampleResult();
    r.runs = [];
    assert.ok(toSvg(r).includes('no method'));
    const s = sampleResult();
    s.target.rows = [];
    s.runs = s.runs.map((run) => ({ ...run, scores: [] }));
    assert.ok(toSvg(s).includes('target: —'));
  });
});
