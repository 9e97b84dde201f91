import * as assert from 'node:assert/strict';
import { toCsv } from '../../src/core/exporters/csv';
import { toHtml } from '../../src/core/exporters/html';
import { toJson } from '../../src/core/exporters/json';
import { parseResult, RESULT_SCHEMA, RESULT_VERSION, type AttributionResult } from '../../src/core/result';

const text = '<img src=x onerror=alert(1)> =SUM(A1) "q"';
const result: AttributionResult = {
  schema: RESULT_SCHEMA,
  version: RESULT_VERSION,
  createdAt: '2026-01-01T00:00:00.000Z',
  model: { id: 'm', architecture: 'gpt2', kind: 'causal-lm', contextLength: 256 },
  input: {
    text,
    tokens: [
      { index: 0, id: 1, start: 0, end: 28, text: text.slice(0, 28), special: false },
      { index: 1, id: 2, start: 28, end: 37, text: text.slice(28, 37), special: false },
      { index: 2, id: 3, start: 37, end: 41, text: text.slice(37, 41), special: false },
    ],
  },
  target: { spec: { kind: 'next-token' }, rows: [{ text: '<b>', tokenId: 9, probability: 0.5, logProb: Math.log(0.5), score: Math.log(0.5) }] },
  predictions: [{ text: '<b>', tokenId: 9, probability: 0.5 }],
  runs: [{ method: 'occlusion', params: {}, scores: [[0.5, -0.25, 0]], meaning: 'm', diagnostics: { forwardPasses: 3, backwardPasses: 0, elapsedMs: 1, batches: 1 } }],
  request: { text, methods: ['occlusion'], target: { kind: 'next-token' } },
};

describe('exporters', function () {
  it('JSON round-trips through parseResult; malformed results are refused with a reason', function () {
    assert.deepEqual(parseResult(JSON.parse(toJson(result))), result);
    assert.throws(() => parseResult({}), /Not a Promptscope attribution result/);
    assert.throws(() => parseResult({ ...result, version: 99 }), /Unsupported result version 99/);
    assert.throws(() => parseResult({ ...result, runs: [{ ...result.runs[0], scores: [[1]] }] }), /must score every input token/);
  });

  it('CSV quotes token text and defuses spreadsheet formulas', function () {
    const lines = toCsv(result).trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[2], /"' =SUM\(A1\)"|"'=SUM|" =SUM\(A1\)"/);
    assert.match(lines[3], /," ""q""",/);
  });

  it('HTML escapes every piece of user text and carries no script', function () {
    const html = toHtml(result);
    assert.doesNotMatch(html, /<img/);
    assert.doesNotMatch(html, /<script/i);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(html, /&lt;b&gt;/);
  });
});
