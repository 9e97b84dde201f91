/**
 * ReAGent on the bundled LM: reproducible for a seed, and its stop rule holds whenever a probe stops — checked
 * with an independent plain forward pass of the input the rule accepted.
 */
import * as assert from 'node:assert/strict';
import { groupTokens } from '../../src/core/aggregation';
import { explain } from '../../src/core/explain';
import type { MethodContext } from '../../src/core/methods/method';
import { reagentOptions, runReagent } from '../../src/core/methods/reagent';
import type { MethodParams } from '../../src/core/request';
import type { ResultToken } from '../../src/core/result';
import { resolveTarget } from '../../src/core/targets';
import { loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { PlainLm } from './plainLm';

describe('ReAGent on the bundled LM', function () {
  let lm: LoadedModel;
  let plain: PlainLm;
  const text = 'Alice met Bob in Paris. Later, Alice said hello to';
  before(async function () {
    lm = await loadModel('promptscope-tiny-lm');
    plain = await PlainLm.create(lm);
  });

  async function context(params: MethodParams): Promise<MethodContext> {
    const prompt = lm.tokenizer.encodePrompt(text);
    const ids = prompt.map((t) => t.id);
    const plan = await resolveTarget({ kind: 'next-token' }, ids, lm.runner, lm.tokenizer);
    const tokens: ResultToken[] = prompt.map((t, index) => ({ index, id: t.id, start: t.start, end: t.end, text: text.slice(t.start, t.end), special: t.special }));
    return { runner: lm.runner, prompt, text, plan, params, special: lm.special, spaceId: lm.spaceId, words: groupTokens(text, tokens, 'word').map((g) => g.tokens), maxTokensPerBatch: 4096 };
  }

  it('gives the same scores for the same seed and different ones for another seed', async function () {
    const go = (seed: number) => explain({ text, methods: ['reagent'], params: { seed, samples: 4, steps: 20 }, target: { kind: 'next-token' }, trust: false }, lm);
    const [a, b, c] = [await go(7), await go(7), await go(8)];
    assert.deepEqual(a.runs[0].scores, b.runs[0].scores);
    assert.notDeepEqual(a.runs[0].scores, c.runs[0].scores);
    assert.equal(a.runs[0].diagnostics.seed, 7);
    assert.equal(a.runs[0].diagnostics.samples, 4);
    const total = a.runs[0].scores[0].reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(total - 1) < 1e-9, `importances are shares summing to 1 (got ${total})`);
    assert.ok(a.runs[0].diagnostics.samplingError![0].every((e) => e >= 0));
  });

  for (const params of [{ replacement: 'uniform' }, { replacement: 'model' }, { baseline: 'pad' }] as MethodParams[]) {
    it(`stops only when its top features alone keep the target in the top k (${JSON.stringify(params)})`, async function () {
      const ctx = await context({ ...params, samples: 6, steps: 60, seed: 3 });
      const groups = ctx.prompt.flatMap((t, i) => (t.special ? [] : [[i]]));
      const o = reagentOptions(ctx);
      const run = await runReagent(ctx, groups, o);
      const ids = ctx.prompt.map((t) => t.id);
      const target = ctx.plan.rows[0].tokenId;
      const keep = Math.min(o.keepTop, groups.length - 1);
      let stopped = 0;
      for (const probe of run.probes) {
        assert.ok(probe.steps >= 1 && probe.steps <= o.maxSteps);
        if (!probe.stopped) {
          assert.equal(probe.steps, o.maxSteps, 'a probe that never met the rule runs every step');
          continue;
        }
        stopped++;
        assert.ok(probe.steps >= o.minSteps, `a probe stops only once its importance has been updated ${o.minSteps} times (stopped after ${probe.steps})`);
        const check = probe.stopCheck!;
        // The kept features are the probe's top-n by its final importance.
        const order = probe.importance[0].map((v, f) => [v, f]).sort((x, y) => y[0] - x[0] || x[1] - y[1]).slice(0, keep).map(([, f]) => f).sort((x, y) => x - y);
        assert.deepEqual(check.kept, order);
        // Every other feature was really replaced, the kept ones were not.
        const input = check.contexts[0];
        assert.equal(input.length, ids.length);
        groups.forEach((g, f) => g.forEach((t) => assert.equal(input[t] === ids[t], check.kept.includes(f), `token ${t} of feature ${f}`)));
        // An independent forward pass of that input puts the target in the top k.
        const top = await plain.top(input, check.topK);
        assert.ok(top.some((t) => t.tokenId === target), `target ${target} not in the top ${check.topK} of the accepted input`);
      }
      console.log(`      ${stopped} of ${run.probes.length} probes met the stop rule; steps ${run.probes.map((p) => p.steps).join(', ')}`);
      assert.ok(stopped > 0, 'at least one probe should stop within 60 steps on this prompt');
    });
  }

  it('runs every step when the stop rule cannot be met in time', async function () {
    const ctx = await context({ samples: 3, steps: 1, seed: 1, keepTop: 1 });
    const groups = ctx.prompt.flatMap((t, i) => (t.special ? [] : [[i]]));
    const run = await runReagent(ctx, groups, reagentOptions(ctx));
    for (const p of run.probes) assert.equal(p.steps, 1);
  });

  it('works on sentences as features', async function () {
    const r = await explain({ text, methods: ['reagent'], params: { features: 'sentence', samples: 4, steps: 30, seed: 2 }, target: { kind: 'next-token' }, trust: false }, lm);
    const groups = groupTokens(text, r.input.tokens, 'sentence');
    assert.equal(groups.length, 2);
    for (const g of groups) {
      const vals = g.tokens.map((t) => r.runs[0].scores[0][t]);
      assert.ok(vals.every((v) => Math.abs(v - vals[0]) < 1e-12), 'a sentence\u2019s share is spread evenly over its tokens');
    }
  });
});
