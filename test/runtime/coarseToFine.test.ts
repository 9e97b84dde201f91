/**
 * Coarse-to-fine occlusion on the bundled LM: every score is an exact occlusion of its span (recomputed here
 * with one plain runner.score call per span), spans are the units their level names (found here from the text
 * alone), and with an unlimited budget the result is leave-one-out.
 */
import * as assert from 'node:assert/strict';
import { groupTokens } from '../../src/core/aggregation';
import { explain } from '../../src/core/explain';
import type { MethodParams } from '../../src/core/request';
import type { AttributionResult, ResultToken, SpanLevel } from '../../src/core/result';
import { loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { spanOcclusion } from './spanOcclusion';
import { spanTree, type SpanNode } from '../../src/core/methods/coarseToFine';

const PROMPT = 'The capital of France is Paris. Everyone knows that.\n\nAlice lives in Berlin, a large city. She said that the capital of France is';

/** Paragraph index of every character: paragraphs are separated by blank lines. */
function paragraphOf(text: string): (i: number) => number {
  const breaks = [...text.matchAll(/\n[^\S\n]*\n\s*/g)].map((m) => m.index! + m[0].length);
  return (i) => breaks.filter((b) => b <= i).length;
}

/**
 * The unit of `level` that holds token t, from the text alone: words as aggregation finds them; a sentence or
 * paragraph is the set of words whose first visible character lies in it.
 */
function unitOf(text: string, tokens: ResultToken[], t: number, level: SpanLevel): number[] {
  if (level === 'token') return [t];
  const words = groupTokens(text, tokens, 'word');
  if (level === 'word') return words.find((g) => g.tokens.includes(t))!.tokens;
  const firstVisible = (g: { start: number; end: number }) => g.start + (text.slice(g.start, g.end).search(/\S/) + 1 || 1) - 1;
  const sentences = groupTokens(text, tokens, 'sentence');
  const para = paragraphOf(text);
  const unitKey = (g: { start: number; end: number }) => {
    const c = firstVisible(g);
    return level === 'paragraph' ? para(c) : sentences.findIndex((s) => c >= s.start && c < s.end);
  };
  const key = unitKey(words.find((g) => g.tokens.includes(t))!);
  return words.filter((g) => unitKey(g) === key).flatMap((g) => g.tokens);
}

describe('coarse-to-fine occlusion on the bundled LM', function () {
  let lm: LoadedModel;
  before(async function () {
    lm = await loadModel('promptscope-tiny-lm');
  });
  const run = (method: string, params: MethodParams = {}): Promise<AttributionResult> =>
    explain({ text: PROMPT, methods: [method], params, target: { kind: 'next-token' }, trust: false }, lm);

  const occlusionOf = (result: AttributionResult, span: number[]) => spanOcclusion(lm.runner, result, span);

  for (const passBudget of [4, 12, 30]) {
    it(`every span score is an exact occlusion of its span (pass budget ${passBudget})`, async function () {
      const r = await run('coarse-to-fine', { passBudget });
      const runInfo = r.runs[0];
      const levels = runInfo.diagnostics.spanLevels!;
      const tokens = r.input.tokens;
      assert.equal(levels.length, tokens.length);
      assert.ok(runInfo.diagnostics.occlusions! <= passBudget, `${runInfo.diagnostics.occlusions} occlusions > budget ${passBudget}`);
      const seen = new Set<string>();
      let spans = 0;
      for (const t of tokens) {
        if (t.special) {
          assert.equal(levels[t.index], null);
          continue;
        }
        const level = levels[t.index]!;
        const span = unitOf(r.input.text, tokens, t.index, level);
        const key = span.join(',');
        if (seen.has(key)) continue;
        seen.add(key);
        spans++;
        // Shared evenly by the span's tokens, all marked with the same level.
        for (const u of span) {
          assert.equal(levels[u], level, `token ${u} in the ${level} span of token ${t.index}`);
          assert.ok(Math.abs(runInfo.scores[0][u] - runInfo.scores[0][t.index]) < 1e-12);
        }
        const effect = span.reduce((s, u) => s + runInfo.scores[0][u], 0);
        const expected = await occlusionOf(r, span);
        assert.ok(Math.abs(effect - expected) < 1e-4, `${level} span ${JSON.stringify(span.map((u) => tokens[u].text).join(''))}: ${effect} vs ${expected}`);
      }
      const counts = Object.fromEntries(['paragraph', 'sentence', 'word', 'token'].map((l) => [l, levels.filter((x) => x === l).length]));
      console.log(`      budget ${passBudget}: ${runInfo.diagnostics.occlusions} occlusions, ${spans} spans, tokens at ${JSON.stringify(counts)}`);
      assert.ok(spans >= 2);
    });
  }

  it('refines the coarse span with the largest |score| first', async function () {
    const coarse = await run('coarse-to-fine', { passBudget: 2 });
    const levels = coarse.runs[0].diagnostics.spanLevels!;
    assert.deepEqual([...new Set(levels.filter((l) => l !== null))], ['paragraph'], 'two passes score the two paragraphs only');
    const para = paragraphOf(PROMPT);
    const effectOf = (p: number) => coarse.input.tokens.filter((t) => !t.special && para(t.start + (/\s/.test(PROMPT[t.start]) ? 1 : 0)) === p).reduce((s, t) => s + coarse.runs[0].scores[0][t.index], 0);
    const bigger = Math.abs(effectOf(0)) >= Math.abs(effectOf(1)) ? 0 : 1;
    const next = await run('coarse-to-fine', { passBudget: 6 });
    const refinedParas = new Set(next.input.tokens.filter((t) => !t.special && next.runs[0].diagnostics.spanLevels![t.index] !== 'paragraph').map((t) => para(t.start + (/\s/.test(PROMPT[t.start]) ? 1 : 0))));
    assert.deepEqual([...refinedParas], [bigger]);
  });

  it('with an unlimited budget equals leave-one-out, and repeats exactly', async function () {
    const loo = await run('occlusion');
    const full = await run('coarse-to-fine', { passBudget: 1_000_000 });
    const again = await run('coarse-to-fine', { passBudget: 1_000_000 });
    const levels = full.runs[0].diagnostics.spanLevels!;
    let maxDiff = 0;
    for (const t of full.input.tokens) {
      if (t.special) continue;
      assert.equal(levels[t.index], 'token');
      maxDiff = Math.max(maxDiff, Math.abs(full.runs[0].scores[0][t.index] - loo.runs[0].scores[0][t.index]));
    }
    assert.ok(maxDiff < 1e-5, `max |coarse-to-fine − leave-one-out| = ${maxDiff}`);
    assert.deepEqual(again.runs[0].scores, full.runs[0].scores);
    console.log(`      max |coarse-to-fine − leave-one-out| = ${maxDiff.toExponential(2)}; occlusions ${full.runs[0].diagnostics.occlusions} vs ${loo.runs[0].diagnostics.forwardPasses}`);
  });

  it('splits a sentence straight into its tokens, even one of long identifiers; one sentence alone keeps its words', async function () {
    const tree = (text: string): SpanNode => {
      const tokens: ResultToken[] = lm.tokenizer.encodePrompt(text).map((t, index) => ({ index, id: t.id, start: t.start, end: t.end, special: t.special, text: text.slice(t.start, t.end) }));
      const words = groupTokens(text, tokens, 'word').map((g) => g.tokens);
      return spanTree({ prompt: tokens, text, words } as unknown as Parameters<typeof spanTree>[0]);
    };
    const code = 'Call getUserAccountIdentifierFromCache with refreshTokenExpirySeconds.';
    const sentences: SpanNode[] = [];
    const walk = (n: SpanNode): void => {
      if (n.level === 'sentence') sentences.push(n);
      n.children.forEach(walk);
    };
    walk(tree(`${PROMPT}\n\n${code} It returns quickly.`));
    assert.ok(sentences.length >= 5);
    for (const s of sentences) assert.ok(s.children.length === s.tokens.length && s.children.every((c) => c.level === 'token' && c.tokens.length === 1), 'sentence → its tokens');
    const alone = tree(code);
    assert.ok(alone.children.some((c) => c.level === 'word' && c.tokens.length > 1), 'a prompt of one sentence starts from its words');
  });

  it('names a bad budget', async function () {
    await assert.rejects(run('coarse-to-fine', { passBudget: 0 }), /pass budget must be a whole number/);
    await assert.rejects(run('coarse-to-fine', { timeBudget: -1 }), /time budget must be a number of seconds/);
  });
});
