/**
 * The coarse-to-fine refinement rule on synthetic span trees, with effects computed independently here
 * (an additive model: a span's effect is the sum of its tokens' weights): the budget holds, the heaviest span
 * is refined first, a span too dear for what is left gives way to a cheaper one, the time budget stops after
 * the coarse level, an unlimited budget reaches every token, and the order repeats exactly.
 */
import * as assert from 'node:assert/strict';
import type { SpanNode } from '../../src/core/methods/coarseToFine';
import { refineSpans, type RefineOptions } from '../../src/core/methods/coarseToFinePlan';

const leaf = (t: number): SpanNode => ({ tokens: [t], level: 'token', children: [] });
const span = (level: SpanNode['level'], children: SpanNode[]): SpanNode => ({ tokens: children.flatMap((c) => c.tokens), level, children });

/** Paragraphs of sentences of tokens, numbered in order: shape[p][s] = tokens in sentence s of paragraph p. */
function tree(shape: number[][]): SpanNode {
  let t = 0;
  return span('paragraph', shape.map((p) => span('paragraph', p.map((n) => span('sentence', Array.from({ length: n }, () => leaf(t++)))))));
}

function oracle(weights: number[]) {
  const calls: number[][][] = [];
  const occlude = async (nodes: SpanNode[]) => {
    calls.push(nodes.map((n) => n.tokens));
    return nodes.map((n) => [n.tokens.reduce((s, t) => s + weights[t], 0)]);
  };
  return { occlude, calls };
}

const opts = (o: Partial<RefineOptions>): RefineOptions => ({ passBudget: 1e9, perBranch: 1, roundPasses: 100, ...o });

describe('coarse-to-fine refinement rule', () => {
  const shape = [[3, 4], [5, 2, 3], [4]];
  const weights = [0.1, 0, 0, 0, 0.2, 0, 0, 1.5, 0, -2, 0, 0, 0, 0, 0.05, 0, 0, 0, 0, 0.3, 0];

  it('occludes the coarse level first, then the heaviest span, and every effect is the exact one', async () => {
    const { occlude, calls } = oracle(weights);
    const state = await refineSpans(tree(shape), occlude, opts({ roundPasses: 1 }));
    assert.deepEqual(calls[0].map((c) => c.length), [7, 10, 4], 'the three paragraphs');
    // The mass is |effect|: paragraph 2 (|1.5 − 2 + 0.05| = 0.45) before paragraphs 1 and 3 (0.3 each).
    assert.deepEqual(calls[1], [[7, 8, 9, 10, 11], [12, 13], [14, 15, 16]]);
    for (const [node, effect] of state.effects) assert.equal(effect[0], node.tokens.reduce((s, t) => s + weights[t], 0));
    assert.equal(state.passes, calls.flat().length);
  });

  it('keeps to the pass budget, skipping a span too dear for what is left', async () => {
    const { occlude, calls } = oracle(weights);
    // 3 coarse passes + paragraph 2's 3 sentences = 6; its sentence of 5 tokens (now the heaviest span) does
    // not fit into the last 2 passes, paragraph 1's two sentences do.
    const state = await refineSpans(tree(shape), occlude, opts({ passBudget: 8, roundPasses: 3 }));
    assert.equal(state.passes, 8);
    assert.deepEqual(calls.slice(2), [[[0, 1, 2], [3, 4, 5, 6]]]);
  });

  it('counts a pass per target branch', async () => {
    const { occlude } = oracle(weights);
    const state = await refineSpans(tree(shape), occlude, opts({ passBudget: 12, perBranch: 2 }));
    assert.equal(state.passes, 2 * (3 + 3));
  });

  it('the time budget stops after the coarse level', async () => {
    const { occlude, calls } = oracle(weights);
    await refineSpans(tree(shape), occlude, opts({ outOfTime: () => true }));
    assert.equal(calls.length, 1);
  });

  it('an unlimited budget occludes every token alone, in a repeatable order', async () => {
    const a = oracle(weights);
    const b = oracle(weights);
    const state = await refineSpans(tree(shape), a.occlude, opts({ roundPasses: 3 }));
    await refineSpans(tree(shape), b.occlude, opts({ roundPasses: 3 }));
    const singles = new Set([...state.effects.keys()].filter((n) => n.tokens.length === 1).map((n) => n.tokens[0]));
    assert.equal(singles.size, weights.length);
    assert.deepEqual(a.calls, b.calls);
  });
});
