/**
 * Units the views draw, on real tokenizations by the bundled tokenizers: zero-width byte pieces and
 * combining marks are folded into their character's unit, scores are conserved, and no unit boundary
 * falls inside a user-perceived character.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';
import type { ResultToken } from '../../src/core/result';
import { aggregateScores } from '../../src/core/aggregation';
import { showMarks, viewGroups } from '../../src/core/viewUnits';
import { TextTokenizer } from '../../src/runtime/textTokenizer';

const MODELS = path.resolve(__dirname, '../../models');

function resultTokens(tok: TextTokenizer, text: string): ResultToken[] {
  return tok.encodePrompt(text).map((t, index) => ({ index, id: t.id, start: t.start, end: t.end, text: text.slice(t.start, t.end), special: t.special }));
}

/** Offsets inside a character an independent way: before a mark, a joiner, a modifier, or after a ZWJ. */
function insideCharacter(text: string, at: number): boolean {
  if (at <= 0 || at >= text.length) return false;
  const cp = text.codePointAt(at)!;
  const ch = String.fromCodePoint(cp);
  if (/[\p{M}\u200d\ufe0f]|[\u{1f3fb}-\u{1f3ff}]/u.test(ch)) return true;
  if (text[at - 1] === '\u200d') return true;
  return /[\udc00-\udfff]/.test(text[at]); // second half of a surrogate pair
}

for (const name of ['promptscope-tiny-lm', 'promptscope-tiny-sentiment']) {
  describe(`view units: ${name}`, function () {
    let tok: TextTokenizer;
    before(async function () {
      tok = await TextTokenizer.load(path.join(MODELS, name));
    });

    it('folds every visible-less piece into a unit and keeps the sum of scores', function () {
      const pieces = fc.constantFrom('a', 'é', 'e\u0301', '😀', '👍🏽', '👩‍👩‍👧', '🇫🇷', ' ', 'The', ' café', 'naïve', 'ü', '中文', '\n', 'o\u0308\u0301');
      fc.assert(
        fc.property(fc.array(pieces, { minLength: 1, maxLength: 16 }).map((a) => a.join('')), fc.integer({ min: 1, max: 1000 }), (text, seed) => {
          const tokens = resultTokens(tok, text);
          const scores = tokens.map((_, i) => ((seed * (i + 3)) % 17) - 8);
          for (const granularity of ['token', 'word'] as const) {
            const groups = viewGroups(text, tokens, granularity);
            const inGroups = new Set(groups.flatMap((g) => g.tokens));
            for (const t of tokens) if (!t.special) assert.ok(inGroups.has(t.index), `token ${t.index} ${JSON.stringify(t.text)} (${t.start}-${t.end}) is in a unit of ${JSON.stringify(text)}`);
            const expected = tokens.filter((t) => !t.special).reduce((a, t) => a + scores[t.index], 0);
            const got = aggregateScores(scores, groups, 'sum').reduce((a, b) => a + b, 0);
            assert.equal(got, expected, 'unit scores add up to the visible tokens’ scores');
            for (const g of groups) {
              assert.ok(g.end > g.start, `unit ${JSON.stringify(g.text)} has visible text`);
              assert.ok(!insideCharacter(text, g.start) && !insideCharacter(text, g.end), `unit ${JSON.stringify(g.text)} (${g.start}-${g.end}) of ${JSON.stringify(text)} starts and ends on character boundaries`);
            }
          }
        }),
        { numRuns: 150 },
      );
    });
  });
}

describe('view units: examples', function () {
  it('an emoji split into byte pieces is one unit with the pieces’ summed score', async function () {
    const tok = await TextTokenizer.load(path.join(MODELS, 'promptscope-tiny-lm'));
    const text = 'I like 😀 a lot';
    const tokens = resultTokens(tok, text);
    const zeroWidth = tokens.filter((t) => !t.special && t.end === t.start);
    assert.ok(zeroWidth.length >= 1, `the tiny LM splits the emoji into byte pieces: ${JSON.stringify(tokens.map((t) => [t.text, t.start, t.end]))}`);
    const groups = viewGroups(text, tokens, 'token');
    const emoji = groups.find((g) => g.text.includes('😀'))!;
    for (const z of zeroWidth) assert.ok(emoji.tokens.includes(z.index), 'zero-width piece joins the emoji');
  });

  it('draws a lone combining mark on a dotted circle', function () {
    assert.equal(showMarks('\u0301'), '\u25cc\u0301');
    assert.equal(showMarks('e\u0301'), 'e\u0301');
    assert.equal(showMarks(' \u0308x'), ' \u25cc\u0308x');
  });
});
