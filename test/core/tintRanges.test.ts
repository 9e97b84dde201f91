/**
 * Tint boundaries: never inside a word of a joining, right-to-left or conjunct-forming script, on real
 * tokenizations of the bundled byte-level tokenizer; and same-coloured neighbours painted as one run.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { ResultToken } from '../../src/core/result';
import { boundaryInsideShapedWord, paintRuns, shapingSafeGroups, shapingScriptOf } from '../../src/core/tintRanges';
import { viewGroups } from '../../src/core/viewUnits';
import { TextTokenizer } from '../../src/runtime/textTokenizer';

const MODELS = path.resolve(__dirname, '../../models');

const SAMPLES: Record<string, string> = {
  Arabic: 'عاصمة فرنسا هي',
  Hebrew: 'הבירה של צרפת היא',
  Syriac: 'ܡܕܝܢܬܐ ܪܒܬܐ',
  Thaana: 'ދިވެހިރާއްޖެ ރާއްޖެ',
  Nko: 'ߒߞߏ ߞߊ߲',
  Devanagari: 'फ्रांस की राजधानी',
};

describe('tint ranges', function () {
  let tok: TextTokenizer;
  before(async function () {
    tok = await TextTokenizer.load(path.join(MODELS, 'promptscope-tiny-lm'));
  });

  for (const [script, text] of Object.entries(SAMPLES)) {
    it(`${script}: each word is one range, whatever the tokenizer split`, function () {
      const tokens: ResultToken[] = tok.encodePrompt(text).map((t, index) => ({ index, id: t.id, start: t.start, end: t.end, text: text.slice(t.start, t.end), special: t.special }));
      const units = viewGroups(text, tokens, 'token');
      // The tokenizer does split inside these words (otherwise the test would prove nothing).
      const words = text.split(' ');
      assert.ok(units.filter((u) => u.text.trim()).length > words.length, `${script} is split inside words: ${JSON.stringify(units.map((u) => u.text))}`);
      const groups = shapingSafeGroups(text, units);
      assert.deepEqual(groups.map((g) => g.text.trim()).filter(Boolean), words, 'one range per word');
      assert.equal(shapingScriptOf(words[0]), script);
    });
  }

  it('leaves Latin, CJK and mixed words at token boundaries', function () {
    assert.equal(boundaryInsideShapedWord('capital', 3, 3), false);
    assert.equal(boundaryInsideShapedWord('中文字', 1, 1), false);
    assert.equal(boundaryInsideShapedWord('abcعاصمة', 3, 3), true, 'a word that contains Arabic is kept whole');
    assert.equal(boundaryInsideShapedWord('عا صمة', 2, 3), false, 'a space is a safe boundary');
  });

  it('paints neighbours of one colour as one run, trimmed, never across lines', function () {
    const text = 'The capital of\nFrance is';
    const items = [
      { start: 0, end: 3, key: 'pos1' },
      { start: 3, end: 11, key: 'pos1' },
      { start: 11, end: 14, key: 'neg2' },
      { start: 14, end: 15, key: 'neg2' },
      { start: 15, end: 21, key: 'neg2' },
      { start: 21, end: 24, key: undefined },
    ];
    const runs = paintRuns(text, items);
    assert.deepEqual(runs.map((r) => [text.slice(r.start, r.end), r.key, r.items]), [
      ['The capital', 'pos1', [0, 1]],
      [' of\n'.trim(), 'neg2', [2, 3]],
      ['France', 'neg2', [4]],
    ]);
  });
});
