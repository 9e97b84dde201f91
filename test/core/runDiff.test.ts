/**
 * Alignment of two prompts' tokens: insertions, deletions and moved text, checked against an independent
 * longest-common-subsequence count and against both token sequences rebuilt from the script.
 */
import * as assert from 'node:assert/strict';
import type { AttributionResult } from '../../src/core/result';
import { alignTokens, diffRuns, type AlignedToken } from '../../src/core/runDiff';

/** Length of the longest common subsequence, by the textbook table. */
function lcs(a: string[], b: string[]): number {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) t[i][j] = a[i - 1] === b[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
  return t[a.length][b.length];
}

/** Every token of a and of b appears exactly once, in order, with its own text; kept tokens match. */
function checkScript(a: string[], b: string[], s: AlignedToken[]): void {
  const bs = s.filter((x) => x.b !== undefined).map((x) => x.b!);
  assert.deepEqual(bs, b.map((_, i) => i), 'b in order, each once');
  const as = s.filter((x) => x.a !== undefined).map((x) => x.a!).sort((x, y) => x - y);
  assert.deepEqual(as, a.map((_, i) => i), 'a each once');
  for (const x of s) {
    if (x.b !== undefined) assert.equal(x.text, b[x.b]);
    if (x.kind === 'kept') assert.equal(a[x.a!].trim(), b[x.b!].trim());
    if (x.kind === 'deleted') assert.equal(x.text, a[x.a!]);
    if (x.kind === 'moved') assert.equal(a[x.a!].trim(), b[x.b!].trim());
  }
  // Kept tokens in order of both sequences.
  const kept = s.filter((x) => x.kind === 'kept');
  for (let i = 1; i < kept.length; i++) assert.ok(kept[i].a! > kept[i - 1].a! && kept[i].b! > kept[i - 1].b!);
}

const words = (t: string) => t.match(/\s*\S+/g) ?? [];

describe('aligning two prompts by a token diff', function () {
  it('an insertion: every other token kept', function () {
    const a = words('The capital of France is');
    const b = words('The capital of sunny France is');
    const s = alignTokens(a, b);
    checkScript(a, b, s);
    assert.deepEqual(s.filter((x) => x.kind !== 'kept'), [{ kind: 'inserted', b: 3, text: ' sunny' }]);
  });

  it('a deletion and an insertion at the ends', function () {
    const a = words('Please answer: the capital of France is');
    const b = words(' the capital of France is in one word');
    const s = alignTokens(a, b);
    checkScript(a, b, s);
    assert.deepEqual(s.filter((x) => x.kind === 'deleted').map((x) => x.text), ['Please', ' answer:']);
    assert.deepEqual(s.filter((x) => x.kind === 'inserted').map((x) => x.text), [' in', ' one', ' word']);
    assert.equal(s.filter((x) => x.kind === 'kept').length, 5);
  });

  it('moved text: a sentence moved to the front pairs each token with its old place', function () {
    const a = words('Alice lives in Paris. Bob lives in Rome. Where does Alice live?');
    const b = words('Bob lives in Rome. Alice lives in Paris. Where does Alice live?');
    const s = alignTokens(a, b);
    checkScript(a, b, s);
    const moved = s.filter((x) => x.kind === 'moved');
    assert.ok(moved.length >= 4, `${moved.length} moved`);
    for (const m of moved) assert.equal(a[m.a!].trim(), b[m.b!].trim());
    assert.equal(s.filter((x) => x.kind === 'deleted' || x.kind === 'inserted').length, 0);
  });

  it('a word that only gained a leading space is kept, not moved', function () {
    const a = words('The capital of France is');
    const b = words('Hello. The capital of France is');
    const s = alignTokens(a, b);
    checkScript(a, b, s);
    assert.deepEqual(s.map((x) => x.kind), ['inserted', 'kept', 'kept', 'kept', 'kept', 'kept']);
    assert.deepEqual([s[1].a, s[1].b], [0, 1]);
  });

  it('a lone moved comma stays a deletion and an insertion', function () {
    const a = ['a', ',', ' b', ' c'];
    const b = ['a', ' b', ',', ' c'];
    const s = alignTokens(a, b);
    checkScript(a, b, s);
    assert.equal(s.filter((x) => x.kind === 'moved').length, 0);
  });

  it('random edits: the script is a shortest one (kept = LCS) and rebuilds both prompts', function () {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const vocab = ['a', 'b', 'c', 'd', 'e'];
    for (let trial = 0; trial < 200; trial++) {
      const a = Array.from({ length: Math.floor(rand() * 30) }, () => vocab[Math.floor(rand() * 5)]);
      const b = a.flatMap((t) => (rand() < 0.2 ? [] : rand() < 0.2 ? [t, vocab[Math.floor(rand() * 5)]] : [t]));
      const s = alignTokens(a, b);
      checkScript(a, b, s);
      // Single letters never count as moved (fewer than 3 characters), so kept is the LCS.
      assert.equal(s.filter((x) => x.kind === 'kept').length, lcs(a, b), `trial ${trial}`);
    }
  });
});

describe('comparing two results (diffRuns)', function () {
  /** A result whose tokens are a BOS token and the words of `text`, scored by `score(word)`. */
  function result(text: string, score: (word: string, i: number) => number, createdAt: string): AttributionResult {
    const pieces = words(text);
    let at = 0;
    const tokens = [{ index: 0, id: 0, start: 0, end: 0, text: '', special: true }];
    for (const p of pieces) {
      tokens.push({ index: tokens.length, id: tokens.length, start: at, end: at + p.length, text: p, special: false });
      at += p.length;
    }
    return {
      schema: 'promptscope.attribution', version: 1, createdAt,
      model: { id: 'm', architecture: 'gpt2', kind: 'causal-lm', contextLength: 64 },
      input: { text, tokens },
      target: { spec: { kind: 'next-token' }, rows: [{ text: ' Paris', tokenId: 7, probability: 0.738, logProb: Math.log(0.738), score: Math.log(0.738) }] },
      predictions: [{ text: ' Paris', tokenId: 7, probability: 0.738 }],
      runs: [{ method: 'occlusion', params: {}, scores: [tokens.map((t, i) => (t.special ? 99 : score(t.text.trim(), i)))], meaning: '', diagnostics: { forwardPasses: 0, backwardPasses: 0, elapsedMs: 0, batches: 0 } }],
      request: { text, methods: ['occlusion'], target: { kind: 'next-token' } },
    } as AttributionResult;
  }

  it('moved, kept, inserted and deleted tokens carry their own result indices and score changes', function () {
    const a = result('Alice lives in Paris. Bob lives in Rome. Where is Alice?', (w, i) => i / 10, 'a');
    const b = result('Bob lives in Rome. Alice lives in Paris. Where now is Alice?', (w, i) => w.length + i / 100, 'b');
    b.target.rows[0] = { ...b.target.rows[0], probability: 0.41 };
    const d = diffRuns(a, b);
    assert.equal(d.prediction.text, ' Paris');
    assert.equal(d.prediction.before, 0.738);
    assert.equal(d.prediction.after, 0.41);
    assert.deepEqual(d.tokens.filter((t) => t.kind === 'inserted').map((t) => t.text.trim()), ['now']);
    assert.ok(d.counts.moved >= 4);
    for (const t of d.tokens) {
      // Indices are the results' own (the BOS token at 0 is never aligned), and the texts agree.
      if (t.a !== undefined) assert.equal(a.input.tokens[t.a].text.trim(), t.text.trim());
      if (t.b !== undefined) assert.equal(b.input.tokens[t.b].text, t.text);
      assert.ok(t.a !== 0 && t.b !== 0, 'special tokens are left out');
      if (t.kind === 'kept' || t.kind === 'moved') assert.equal(t.delta, b.runs[0].scores[0][t.b!] - a.runs[0].scores[0][t.a!]);
      if (t.kind === 'inserted') assert.deepEqual([t.scoreA, t.scoreB], [undefined, b.runs[0].scores[0][t.b!]]);
    }
    // Every token of each prompt appears once.
    assert.equal(d.tokens.filter((t) => t.a !== undefined).length, a.input.tokens.length - 1);
    assert.equal(d.tokens.filter((t) => t.b !== undefined).length, b.input.tokens.length - 1);
  });
});
