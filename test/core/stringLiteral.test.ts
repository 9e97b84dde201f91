/** The string literal under the cursor in Python / TypeScript / JavaScript, decoded, with source offsets. */
import * as assert from 'node:assert/strict';
import { stringLiteralAt, type LiteralLanguage } from '../../src/core/stringLiteral';

/** The cursor goes where the source has a `|`. */
function at(src: string, language: LiteralLanguage) {
  const cursor = src.indexOf('|');
  return { source: src.replace('|', ''), lit: stringLiteralAt(src.replace('|', ''), cursor, language) };
}

describe('string literal at the cursor', function () {
  it('TypeScript: escapes decoded, every character mapped to the source', function () {
    const { source, lit } = at('const p = "Say \\"hi\\"\\nto Bo|b"; // "not this"', 'typescript');
    assert.ok(lit);
    assert.equal(lit.text, 'Say "hi"\nto Bob');
    assert.equal(lit.hasEscapes, true);
    assert.equal(lit.offsets.length, lit.text.length + 1);
    // A plain character maps to itself; an escape's character maps to its backslash.
    for (let k = 0; k < lit.text.length; k++) {
      const o: number = lit.offsets[k];
      if (source[o] === '\\') assert.ok(['"', '\n'].includes(lit.text[k]), `escape at ${o}`);
      else assert.equal(source[o], lit.text[k]);
    }
    assert.equal(source.slice(lit.offsets[4], lit.offsets[4] + 2), '\\"');
    assert.equal(lit.offsets[lit.text.length], source.indexOf('";'));
  });

  it('JavaScript: template literals span lines; quotes in comments open nothing', function () {
    const src = "// it's a comment\nconst t = `line one\nline |two`;";
    assert.equal(at(src, 'javascript').lit?.text, 'line one\nline two');
    assert.equal(at("const a = 1; // don't |x\n", 'javascript').lit, undefined);
    assert.equal(at("/* 'x' */ const a = |1;", 'javascript').lit, undefined);
  });

  it('Python: prefixes, raw strings, triple quotes, \\x and unicode escapes', function () {
    assert.equal(at("p = f'Hello {na|me}\\n'", 'python').lit?.text, 'Hello {name}\n');
    const raw = at("p = r'C:\\new\\te|xt'", 'python').lit!;
    assert.equal(raw.text, 'C:\\new\\text');
    assert.equal(raw.hasEscapes, false);
    const triple = at('p = """First line\nsecond \\"quoted\\" |line"""\n# "not" this', 'python').lit!;
    assert.equal(triple.text, 'First line\nsecond "quoted" line');
    assert.equal(at("p = 'caf\\xe9 \\u00e9 \\N|x'", 'python').lit?.text, 'café é \\Nx');
    assert.equal(at("x = 1  # 'comment |here'", 'python').lit, undefined);
  });

  it('no escapes: the text is the source between the quotes', function () {
    const { source, lit } = at("prompt = 'The capital of |France is'", 'python');
    assert.equal(lit!.text, 'The capital of France is');
    assert.equal(lit!.hasEscapes, false);
    assert.equal(source.slice(lit!.contentStart, lit!.contentEnd), lit!.text);
    assert.deepEqual(lit!.offsets, Array.from({ length: lit!.text.length + 1 }, (_, k) => lit!.contentStart + k));
  });

  it('outside every literal: undefined', function () {
    assert.equal(at('const x = |1 + "a";', 'typescript').lit, undefined);
    assert.equal(at('const x = "a" + |"b";', 'typescript').lit?.text, 'b', 'on the opening quote counts');
  });
});
