/**
 * The offset map from a decoded string literal back to its source: random prompts are encoded with random
 * escapes, decoded by stringLiteralAt, and every character's source span is decoded again on its own by
 * JSON.parse (an independent decoder) — it must give back exactly that character. Then tokens placed
 * through the map cover the right source characters, also for a result truncated to the prompt's end.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { literalSourceMap, sliceSourceMap } from '../../src/core/sourceMap';
import { stringLiteralAt, type LiteralLanguage } from '../../src/core/stringLiteral';
import { createStoredResult, truncatedMap } from '../../src/extension/resultStore';
import type { AttributionResult } from '../../src/core/result';

/** One character of a literal's source, written plainly or as one of the escapes both languages read. */
function encodeChar(c: string, how: number, quote: string, language: LiteralLanguage): string {
  const code = c.charCodeAt(0);
  const named: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\\': '\\\\', '"': '\\"', "'": "\\'" };
  if (language !== 'python') named['`'] = '\\`'; // Python keeps the backslash of an unknown escape
  if (c === quote || c === '\\' || c === '\n' || c === '\r' || (quote === '`' && c === '$')) return c === '$' ? '\\$' : named[c] ?? `\\u${code.toString(16).padStart(4, '0')}`;
  if (how === 1 && named[c]) return named[c];
  if (how === 2) return `\\u${code.toString(16).padStart(4, '0')}`;
  if (how === 3 && code < 256) return `\\x${code.toString(16).padStart(2, '0')}`;
  return c;
}

/** JSON's decoder on one source span (\x and \' and \` and \$ rewritten into what JSON reads). */
function decodeIndependently(span: string): string {
  const json = span.replace(/\t/g, '\\t').replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\(['`$])/g, '$1').replace(/"/g, '\\"').replace(/\\\\"/g, '\\"');
  return JSON.parse(`"${json}"`);
}

const alphabet = fc.constantFrom(...'ab Zé€\n\t"\'`\\$\u00a0{}'.split(''));

describe('source map of a decoded literal', function () {
  for (const [language, quote, before, after] of [
    ['typescript', '"', 'const p = ', ';'],
    ['javascript', '`', 'const t = ', ';'],
    ['python', "'", 'prompt = ', '\n'],
  ] as [LiteralLanguage, string, string, string][]) {
    it(`${language} ${quote}…${quote}: each character's source span decodes to that character`, function () {
      fc.assert(
        fc.property(fc.array(fc.tuple(alphabet, fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 40 }), (chars) => {
          const text = chars.map(([c]) => c).join('');
          const body = chars.map(([c, how]) => encodeChar(c, how, quote, language)).join('');
          const source = `${before}${quote}${body}${quote}${after}`;
          const lit = stringLiteralAt(source, before.length + 1, language);
          assert.ok(lit, source);
          assert.equal(lit.text, text);
          const map = literalSourceMap(source, lit.offsets);
          assert.equal(map.source, body);
          for (let i = 0; i < text.length; i++) {
            const span = map.source.slice(map.offsets[i], map.offsets[i + 1]);
            assert.equal(decodeIndependently(span), text[i], `character ${i} from ${JSON.stringify(span)}`);
          }
        }),
        { numRuns: 200, seed: 14 },
      );
    });
  }

  it('tokens placed through the map cover their source, also when only the end was explained', function () {
    const source = 'p = "Line one\\nThe \\"capital\\" of France is"';
    const lit = stringLiteralAt(source, 6, 'typescript')!;
    const map = literalSourceMap(source, lit.offsets);
    const text = lit.text;
    assert.equal(text, 'Line one\nThe "capital" of France is');
    const pieces = ['Line', ' one', '\n', 'The', ' "', 'capital', '"', ' of', ' France', ' is'];
    const tokensOf = (t: string, list: string[]) => {
      let at = 0;
      return list.map((p, index) => {
        const start = t.indexOf(p, at);
        at = start + p.length;
        return { index, id: index, start, end: at, text: p, special: false };
      });
    };
    const result = { input: { text, tokens: tokensOf(text, pieces) }, runs: [], target: { spec: { kind: 'next-token' }, rows: [] } } as unknown as AttributionResult;
    const docOffset = lit.contentStart;
    const stored = createStoredResult('u', result, docOffset, map);
    const spans = stored.tokens.map((t) => source.slice(t.start, t.end));
    assert.deepEqual(spans, ['Line', ' one', '\\n', 'The', ' \\"', 'capital', '\\"', ' of', ' France', ' is']);
    for (const [i, span] of spans.entries()) assert.equal(decodeIndependently(span), pieces[i]);

    // Truncated: the engine explained only "capital\" of France is"; its map starts at that character.
    const tail = text.slice(text.indexOf('capital'));
    const cut = text.length - tail.length;
    const tailMap = truncatedMap(map, text.length, tail.length);
    assert.deepEqual(tailMap, sliceSourceMap(map, cut, text.length));
    const tailResult = { ...result, input: { text: tail, tokens: tokensOf(tail, pieces.slice(5)) } } as AttributionResult;
    const tailStored = createStoredResult('u', tailResult, docOffset + map.offsets[cut], tailMap);
    assert.deepEqual(tailStored.tokens.map((t) => source.slice(t.start, t.end)), ['capital', '\\"', ' of', ' France', ' is']);
  });
});
