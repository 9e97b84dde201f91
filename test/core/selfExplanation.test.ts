/** Parsing the model's own ratings of its input from fixed replies, and their rank correlation with an attribution. */
import * as assert from 'node:assert/strict';
import { parseSelfRatings, selfRatingPrompt, selfVsAttribution, wordsOf } from '../../src/core/trust/selfExplanation';

const TEXT = 'The movie was not great.';
const WORDS = wordsOf(TEXT);

describe('self-explanation parsing', () => {
  it('states the format and the input in the prompt', () => {
    const p = selfRatingPrompt({ text: TEXT, words: WORDS });
    assert.match(p, /\(word, importance\)/);
    assert.match(p, /from -1 .* to 1/s);
    assert.ok(p.includes(`Input: ${TEXT}`));
  });

  it('reads (word, importance) tuples in the homework format and the answer', () => {
    const reply = '[("The", 0.0), ("movie", 0.1), ("was", 0), ("not", -0.9), ("great.", 0.8)]\nAnswer: negative';
    const r = parseSelfRatings(reply, WORDS);
    assert.ok(r.ok);
    assert.deepEqual(r.value.ratings, [0, 0.1, 0, -0.9, 0.8]);
    assert.equal(r.value.answer, 'negative');
    assert.deepEqual(r.value.unmatched, []);
  });

  it('accepts "word: value" lines, punctuation differences, a true minus sign and missing words', () => {
    const reply = 'Ratings:\n- movie: 0.2\n- not: −1\n- great: 0.7\nAnswer: negative';
    const r = parseSelfRatings(reply, WORDS);
    assert.ok(r.ok);
    assert.deepEqual(r.value.ratings, [null, 0.2, null, -1, 0.7]);
  });

  it('maps repeated words to successive occurrences and keeps tuples that match no word aside', () => {
    const r = parseSelfRatings('(good, 0.5) (very, 0.2) (good, 0.9) (banana, 0.4)', ['good', 'very', 'good']);
    assert.ok(r.ok);
    assert.deepEqual(r.value.ratings, [0.5, 0.2, 0.9]);
    assert.deepEqual(r.value.unmatched, ['banana']);
  });

  it('says clearly when a reply cannot be parsed', () => {
    const a = parseSelfRatings(' is the capital of the capital of the', WORDS);
    assert.equal(a.ok, false);
    assert.match(!a.ok ? a.reason : '', /no \(word, importance\) ratings; it begins: "is the capital/);
    const b = parseSelfRatings('', WORDS);
    assert.match(!b.ok ? b.reason : '', /it is empty/);
    const c = parseSelfRatings('(not, 7) (great, 12)', WORDS);
    assert.match(!c.ok ? c.reason : '', /outside −1…1/);
    const d = parseSelfRatings('(pizza, 0.5)', WORDS);
    assert.match(!d.ok ? d.reason : '', /None of the rated words \("pizza"\)/);
  });

  it('rank-correlates the ratings with the attribution over the rated words', () => {
    assert.deepEqual(selfVsAttribution([0.1, null, 0.5, 0.9], [1, 99, 2, 3]), { rho: 1, words: 3 });
    assert.deepEqual(selfVsAttribution([0.9, 0.5, 0.1], [1, 2, 3]), { rho: -1, words: 3 });
    assert.deepEqual(selfVsAttribution([0.9, null], [1, 2]), { rho: null, words: 1 });
  });
});
