// Edit rules for stored results (pure: runs under plain mocha, no editor needed).
import * as assert from 'node:assert/strict';
import type { AttributionResult } from '../../../src/core/result';
import { applyEdits, createStoredResult, ResultStore } from '../../../src/extension/resultStore';

function fakeResult(text: string, pieces: string[]): AttributionResult {
  let at = 0;
  const tokens = pieces.map((p, index) => {
    const start = text.indexOf(p, at);
    at = start + p.length;
    return { index, id: index, start, end: start + p.length, text: p, special: false };
  });
  return { input: { text, tokens }, runs: [], target: { spec: { kind: 'next-token' }, rows: [] } } as unknown as AttributionResult;
}

describe('resultStore edits', () => {
  const text = 'The capital of France is';
  const pieces = ['The', ' capital', ' of', ' France', ' is'];

  it('places tokens at the selection offset', () => {
    const s = createStoredResult('u', fakeResult(text, pieces), 10);
    assert.deepEqual(s.tokens.map((t) => [t.start, t.end]), [[10, 13], [13, 21], [21, 24], [24, 31], [31, 34]]);
  });

  it('shifts tokens after an edit and keeps tokens before it', () => {
    const s = createStoredResult('u', fakeResult(text, pieces), 0);
    applyEdits(s, [{ rangeOffset: 0, rangeLength: 0, text: 'XY ' }]);
    assert.equal(s.tokens[0].start, 3);
    assert.equal(s.offset, 3);
    applyEdits(s, [{ rangeOffset: 100, rangeLength: 0, text: 'tail' }]);
    assert.equal(s.tokens.at(-1)!.end, 27);
  });

  it('drops exactly the tokens an edit touches', () => {
    const s = createStoredResult('u', fakeResult(text, pieces), 0);
    // "France" → "Italy": token 3 goes, token 4 moves left by one.
    applyEdits(s, [{ rangeOffset: 15, rangeLength: 6, text: 'Italy' }]);
    assert.deepEqual(s.tokens.map((t) => t.index), [0, 1, 2, 4]);
    assert.deepEqual([s.tokens[3].start, s.tokens[3].end], [20, 23]);
  });

  it('treats insertions at a token boundary as outside the token', () => {
    const s = createStoredResult('u', fakeResult(text, pieces), 0);
    applyEdits(s, [{ rangeOffset: 3, rangeLength: 0, text: '!' }]);
    assert.deepEqual(s.tokens.map((t) => t.index), [0, 1, 2, 3, 4]);
    assert.deepEqual([s.tokens[0].end, s.tokens[1].start], [3, 4]);
  });

  it('applies several changes of one event, each against the old text', () => {
    const s = createStoredResult('u', fakeResult(text, pieces), 0);
    applyEdits(s, [
      { rangeOffset: 0, rangeLength: 0, text: '>>' },
      { rangeOffset: 24, rangeLength: 0, text: '?' },
    ]);
    assert.deepEqual(s.tokens.map((t) => t.start), [2, 5, 13, 16, 23]);
  });

  it('finds the token under an offset', () => {
    const store = new ResultStore();
    store.set(createStoredResult('u', fakeResult(text, pieces), 5));
    assert.equal(store.tokenAt('u', 5)?.index, 0);
    assert.equal(store.tokenAt('u', 8)?.index, 1);
    assert.equal(store.tokenAt('u', 38), undefined);
    assert.equal(store.tokenAt('other', 5), undefined);
  });
});
