/** Merging finished runs and a running method's chunk into one partial result, and the throttle on sending them. */
import * as assert from 'node:assert/strict';
import {
  buildPartialResult,
  cancelledResult,
  explainingLine,
  isPendingToken,
  PartialThrottle,
  partialSummary,
  resultBeforeTrust,
  type MethodPartial,
  type ResultSkeleton,
} from '../../src/core/partialResult';
import { RESULT_SCHEMA, RESULT_VERSION, type MethodRun } from '../../src/core/result';

const skeleton: ResultSkeleton = {
  schema: RESULT_SCHEMA,
  version: RESULT_VERSION,
  createdAt: '2026-01-01T00:00:00.000Z',
  model: { id: 'm', architecture: 'gpt2', kind: 'causal-lm', contextLength: 256 },
  input: {
    text: 'a b c',
    tokens: [0, 1, 2].map((i) => ({ index: i, id: i, start: 2 * i, end: 2 * i + 1, text: 'abc'[i], special: false })),
  },
  target: { spec: { kind: 'next-token' }, rows: [{ text: ' d', tokenId: 9, probability: 0.5, logProb: Math.log(0.5), score: Math.log(0.5) }] },
  predictions: [],
  request: { text: 'a b c', methods: ['gradient', 'occlusion'], target: { kind: 'next-token' } },
};
const finished: MethodRun = { method: 'gradient', params: {}, scores: [[0.1, 0.2, 0.3]], meaning: 'g', diagnostics: { forwardPasses: 1, backwardPasses: 1, elapsedMs: 3, batches: 1 } };

describe('partial results', () => {
  it('keeps the finished runs and appends the running one with a copy of its scores so far', () => {
    const chunk: MethodPartial = { scores: [[0.5, 0, 0]], unit: 'token', passes: 1, totalPasses: 3, pending: [1, 2], meaning: 'occ' };
    const r = buildPartialResult(skeleton, [finished], 'occlusion', chunk);
    assert.deepEqual(r.runs.map((x) => x.method), ['gradient', 'occlusion']);
    assert.equal(r.runs[0], finished);
    assert.deepEqual(r.runs[1].scores, [[0.5, 0, 0]]);
    assert.deepEqual(r.partial, { state: 'running', method: 'occlusion', unit: 'token', passes: 1, totalPasses: 3, pending: [1, 2] });
    // The method goes on writing into its own arrays: what was sent must not change with them.
    chunk.scores[0][1] = 9;
    assert.equal(r.runs[1].scores[0][1], 0);
    assert.equal(r.input, skeleton.input);
    assert.ok(isPendingToken(r, 1, 2) && !isPendingToken(r, 1, 0) && !isPendingToken(r, 0, 2), 'only the running run has pending tokens');
  });

  it('a cancelled run keeps its last partial result, marked cancelled', () => {
    const r = buildPartialResult(skeleton, [], 'coarse-to-fine', { scores: [[1, 1, 1]], unit: 'sentence', passes: 2, totalPasses: 8, spanLevels: ['sentence', 'sentence', 'sentence'] });
    const c = cancelledResult(r);
    assert.equal(c.partial!.state, 'cancelled');
    assert.equal(r.partial!.state, 'running', 'the original is left as it was');
    assert.deepEqual(c.runs, r.runs);
    assert.equal(partialSummary(c), 'partial (cancelled) · sentences · 2/8 passes');
    assert.equal(partialSummary(r), 'partial · sentences · 2/8 passes');
    assert.equal(partialSummary({ ...skeleton, runs: [finished] }), undefined, 'a final result is not partial');
  });

  it('before the faithfulness figures every run is complete', () => {
    const r = resultBeforeTrust(skeleton, [finished]);
    assert.equal(r.partial!.phase, 'faithfulness');
    assert.equal(partialSummary(r), 'partial · checking faithfulness');
    assert.equal(partialSummary(cancelledResult(r)), 'partial (cancelled before the faithfulness figures)');
  });

  it('names the unit and the passes in the progress line', () => {
    assert.equal(explainingLine('word', 34, 120), 'Explaining · words · 34/120 passes');
    assert.equal(explainingLine(undefined, 1, 2), 'Explaining · 1/2 passes');
  });

  it('sends the first chunk, every new unit, and otherwise one per interval', () => {
    let now = 0;
    const t = new PartialThrottle(250, () => now);
    assert.equal(t.shouldSend('paragraph'), true);
    now = 10;
    assert.equal(t.shouldSend('paragraph'), false);
    assert.equal(t.shouldSend('sentence'), true, 'a level completed');
    now = 100;
    assert.equal(t.shouldSend('sentence'), false);
    now = 260;
    assert.equal(t.shouldSend('sentence'), true);
    t.reset();
    assert.equal(t.shouldSend('sentence'), true, 'a new method sends its first chunk at once');
  });
});
