/** Comparing two real runs of the bundled LM: the prediction's move and aligned score changes. */
import * as assert from 'node:assert/strict';
import { explain } from '../../src/core/explain';
import { diffRuns } from '../../src/core/runDiff';
import { loadModel, type LoadedModel } from '../../src/runtime/loadedModel';

describe('diff of two runs on the bundled LM', function () {
  let lm: LoadedModel;
  before(async function () {
    lm = await loadModel('promptscope-tiny-lm');
  });

  it('reports the first prediction in both runs and each kept token\'s score change', async function () {
    const run = (text: string, target: { kind: 'next-token' } | { kind: 'token'; tokenId: number } = { kind: 'next-token' }) =>
      explain({ text, methods: ['occlusion'], target, trust: false }, lm);
    const a = await run('The capital of France is');
    const b = await run('Alice said that the capital of France is');
    const d = diffRuns(a, b);
    assert.equal(d.prediction.text, a.target.rows[0].text);
    assert.equal(d.prediction.before, a.target.rows[0].probability);
    // Independently: explain B for A's token and read its probability.
    const forced = await run('Alice said that the capital of France is', { kind: 'token', tokenId: a.target.rows[0].tokenId });
    if (d.prediction.after !== undefined) assert.ok(Math.abs(d.prediction.after - forced.target.rows[0].probability) < 1e-6);
    else assert.ok(!b.predictions.some((p) => p.tokenId === a.target.rows[0].tokenId));
    assert.deepEqual(d.tokens.filter((t) => t.kind === 'kept').map((t) => t.text), [' capital', ' of', ' France', ' is']);
    assert.deepEqual(d.tokens.filter((t) => t.kind === 'deleted').map((t) => t.text), ['The']);
    assert.equal(d.tokens.filter((t) => t.kind === 'inserted').map((t) => t.text).join(''), 'Alice said that the');
    assert.equal(d.counts.moved, 0);
    for (const t of d.tokens) {
      if (t.kind === 'kept') {
        assert.equal(a.input.tokens[t.a!].text, b.input.tokens[t.b!].text);
        assert.equal(t.delta, b.runs[0].scores[0][t.b!] - a.runs[0].scores[0][t.a!]);
      }
    }
  });
});
