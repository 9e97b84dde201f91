import * as assert from 'node:assert/strict';
import { aggregateScores, groupTokens, normalise } from '../../src/core/aggregation';
import type { ResultToken } from '../../src/core/result';

/** Tokens from explicit [start, end) cuts of a text, with a zero-width special token first. */
function tokensOf(text: string, cuts: number[]): ResultToken[] {
  const toks: ResultToken[] = [{ index: 0, id: 0, start: 0, end: 0, text: '', special: true }];
  for (let i = 0; i + 1 < cuts.length; i++) toks.push({ index: i + 1, id: i + 1, start: cuts[i], end: cuts[i + 1], text: text.slice(cuts[i], cuts[i + 1]), special: false });
  return toks;
}

describe('aggregation', function () {
  const text = 'Hello wor-ld. Next one!\nLine two';
  // Hello| wor|-|ld|.| Next| one|!|\n|Line| two
  const cuts = [0, 5, 9, 10, 12, 13, 18, 22, 23, 24, 28, 32];
  const tokens = tokensOf(text, cuts);

  it('groups subword tokens into words by offsets, leading spaces joining the next word', function () {
    const words = groupTokens(text, tokens, 'word').map((g) => g.text);
    assert.deepEqual(words, ['Hello', ' wor', '-', 'ld', '.', ' Next', ' one', '!', '\nLine', ' two']);
  });

  it('groups by line and by sentence; special tokens join no group', function () {
    assert.deepEqual(groupTokens(text, tokens, 'line').map((g) => g.text), ['Hello wor-ld. Next one!\n', 'Line two']);
    assert.deepEqual(groupTokens(text, tokens, 'sentence').map((g) => g.text), ['Hello wor-ld.', ' Next one!', '\nLine two']);
    for (const g of groupTokens(text, tokens, 'sentence')) assert.ok(!g.tokens.includes(0));
  });

  it('reduces with sum, mean and max-abs, and normalises to signed shares', function () {
    const scores = tokens.map((_, i) => (i % 2 ? i : -i));
    const groups = groupTokens(text, tokens, 'line');
    const first = groups[0].tokens.map((i) => scores[i]);
    assert.equal(aggregateScores(scores, groups, 'sum')[0], first.reduce((a, b) => a + b, 0));
    assert.equal(aggregateScores(scores, groups, 'mean')[0], first.reduce((a, b) => a + b, 0) / first.length);
    assert.equal(aggregateScores(scores, groups, 'max-abs')[0], 9);
    const shares = normalise([2, -1, 1]);
    assert.deepEqual(shares, [0.5, -0.25, 0.25]);
  });
});
