/**
 * Token ranges from both bundled tokenizers cover random Unicode text in order: no overlaps, and the only
 * characters outside every token are ones the tokenizer drops (spaces for WordPiece).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { TextTokenizer } from '../../src/runtime/textTokenizer';

const MODELS = path.resolve(__dirname, '../../models');

const pieces = fc.constantFrom(
  'a', 'Z', 'é', 'e\u0301', 'ß', 'İ', 'ﬁ', '😀', '👩‍👩‍👧', '🇫🇷', '中文', '日本語', '한국어', 'Ω', 'ø', '\t', '\r\n', '\n', ' ', '  ',
  'The', ' capital', 'don\'t', '3.14', '#', '<', '>', '&', '"', 'naïve', 'Ñandú', 'ü', '\u200b', '\u0000', '##', '[CLS]', '<|endoftext|>',
);
const texts = fc.oneof(
  fc.array(pieces, { minLength: 1, maxLength: 24 }).map((a) => a.join('')),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
);

for (const name of ['promptscope-tiny-lm', 'promptscope-tiny-sentiment']) {
  describe(`token offsets: ${name}`, function () {
    let tok: TextTokenizer;
    before(async function () {
      assert.ok(fs.existsSync(path.join(MODELS, name, 'tokenizer.json')), `bundled model ${name} is missing`);
      tok = await TextTokenizer.load(path.join(MODELS, name));
    });

    it('covers random Unicode text in order without gaps or overlaps', function () {
      fc.assert(
        fc.property(texts, (text) => {
          const tokens = tok.encodePrompt(text);
          let at = 0;
          for (const t of tokens) {
            assert.ok(t.start <= t.end, `range ${t.start}-${t.end} reversed`);
            assert.ok(t.start >= at, `token ${JSON.stringify(tok.tokenText(t.id))} starts at ${t.start}, before ${at} (overlap) in ${JSON.stringify(text)}`);
            const gap = text.slice(at, t.start);
            assert.ok(droppable(gap, name), `gap ${JSON.stringify(gap)} before token ${JSON.stringify(tok.tokenText(t.id))} in ${JSON.stringify(text)}`);
            // Ranges never split a surrogate pair.
            for (const b of [t.start, t.end]) assert.ok(!isLowSurrogate(text.charCodeAt(b)) || b === text.length, `boundary ${b} splits a surrogate pair`);
            at = t.end;
          }
          assert.ok(droppable(text.slice(at), name), `uncovered tail ${JSON.stringify(text.slice(at))} in ${JSON.stringify(text)}`);
        }),
        { numRuns: 400, seed: 42 },
      );
    });

    it('maps each token to the characters it stands for', function () {
      const text = name.includes('lm') ? 'The café 😀 costs\t3€.\r\nDone' : 'The Café was NOT good, naïve 😀!';
      const tokens = tok.encodePrompt(text);
      const visible = tokens.filter((t) => !t.special);
      assert.ok(visible.length >= 8);
      for (const t of visible) {
        const surface = text.slice(t.start, t.end);
        const decoded = tok.tokenText(t.id);
        if (t.end === t.start) continue; // a later piece of a character an earlier token owns
        if (name.includes('lm')) {
          // Byte-level pieces decode to exactly their text, except pieces of a split character.
          if (!decoded.includes('\ufffd')) assert.equal(surface, decoded);
        } else {
          const norm = surface.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');
          assert.equal(norm, decoded.replace(/^##/, ''), `token ${decoded} vs text ${surface}`);
        }
      }
    });
  });
}

function droppable(gap: string, name: string): boolean {
  if (gap === '') return true;
  if (name.includes('lm')) return false; // byte-level BPE covers every byte
  // WordPiece drops whitespace, control characters and marks the normaliser strips.
  return /^[\s\p{Cc}\p{Cf}\p{M}\u{fffd}]*$/u.test(gap);
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
