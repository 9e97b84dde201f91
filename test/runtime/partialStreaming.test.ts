/**
 * Streaming on the bundled LM: the partial results explain() sends while coarse-to-fine and occlusion run.
 * Every span score in the first partial result is checked against an independent occlusion (one plain
 * runner.score call per span); later partials agree with the final result wherever a token's level did not
 * change; a streamed run's final scores equal an unstreamed run's.
 */
import * as assert from 'node:assert/strict';
import { explain } from '../../src/core/explain';
import type { MethodParams } from '../../src/core/request';
import type { AttributionResult } from '../../src/core/result';
import { loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { spanOcclusion } from './spanOcclusion';

const PROMPT = 'The capital of France is Paris. Everyone knows that.\n\nAlice lives in Berlin, a large city. She said that the capital of France is';

describe('streaming partial results on the bundled LM', function () {
  let lm: LoadedModel;
  before(async function () {
    lm = await loadModel('promptscope-tiny-lm');
  });
  const run = async (method: string, params: MethodParams = {}, stream = true) => {
    const partials: AttributionResult[] = [];
    const final = await explain({ text: PROMPT, methods: [method], params, target: { kind: 'next-token' }, trust: false }, lm, stream ? { onPartial: (r) => partials.push(r) } : {});
    return { final, partials };
  };

  const occlusionOf = (result: AttributionResult, span: number[]) => spanOcclusion(lm.runner, result, span);

  it('coarse-to-fine sends a partial result per level, each consistent with the final one', async function () {
    const { final, partials } = await run('coarse-to-fine', { passBudget: 30 });
    assert.ok(partials.length >= 2, `${partials.length} partial results`);
    assert.equal(final.partial, undefined);
    const units = partials.map((p) => p.partial!.unit);
    assert.equal(units[0], 'paragraph');
    assert.ok(new Set(units).size >= 2, `units ${units.join(', ')}`);
    for (const p of partials) {
      assert.equal(p.createdAt, final.createdAt, 'one run, one identity');
      assert.equal(p.partial!.state, 'running');
      assert.ok(p.partial!.passes <= final.runs[0].diagnostics.occlusions!);
    }
    // The first partial: two paragraph occlusions, checked against an independent computation.
    const first = partials[0];
    const levels = first.runs[0].diagnostics.spanLevels!;
    const spans = new Map<string, number[]>();
    first.input.tokens.forEach((t) => {
      if (t.special) return;
      assert.equal(levels[t.index], 'paragraph');
    });
    for (const t of first.input.tokens) if (!t.special) spans.set(String(first.runs[0].scores[0][t.index]), [...(spans.get(String(first.runs[0].scores[0][t.index])) ?? []), t.index]);
    assert.equal(spans.size, 2, 'two paragraphs, each sharing one score');
    for (const span of spans.values()) {
      const effect = span.reduce((s, u) => s + first.runs[0].scores[0][u], 0);
      const expected = await occlusionOf(first, span);
      assert.ok(Math.abs(effect - expected) < 1e-4, `${effect} vs ${expected}`);
    }
    // A token whose level never changed afterwards keeps exactly the score it was sent with.
    const finalLevels = final.runs[0].diagnostics.spanLevels!;
    for (const p of partials) {
      const pl = p.runs[0].diagnostics.spanLevels!;
      for (const t of final.input.tokens) if (pl[t.index] === finalLevels[t.index]) assert.equal(p.runs[0].scores[0][t.index], final.runs[0].scores[0][t.index]);
    }
    const plain = await run('coarse-to-fine', { passBudget: 30 }, false);
    assert.deepEqual(plain.final.runs[0].scores, final.runs[0].scores, 'streaming does not change the numbers');
  });

  it('occlusion sends the tokens scored so far; the rest are pending at 0', async function () {
    const prev = process.env.PROMPTSCOPE_ITEMS_PER_BATCH;
    process.env.PROMPTSCOPE_ITEMS_PER_BATCH = '4';
    try {
      const { final, partials } = await run('occlusion');
      assert.ok(partials.length >= 1);
      for (const p of partials) {
        const pending = new Set(p.partial!.pending);
        assert.ok(pending.size > 0 && p.partial!.unit === 'token');
        for (const t of final.input.tokens) {
          if (t.special) continue;
          const got = p.runs[0].scores[0][t.index];
          if (pending.has(t.index)) assert.equal(got, 0);
          else assert.equal(got, final.runs[0].scores[0][t.index]);
        }
        assert.equal(p.partial!.passes, final.input.tokens.filter((t) => !t.special).length - pending.size);
      }
    } finally {
      if (prev === undefined) delete process.env.PROMPTSCOPE_ITEMS_PER_BATCH;
      else process.env.PROMPTSCOPE_ITEMS_PER_BATCH = prev;
    }
  });
  it('the progress line, the partial results and the final run count the same passes', async function () {
    const prev = process.env.PROMPTSCOPE_ITEMS_PER_BATCH;
    process.env.PROMPTSCOPE_ITEMS_PER_BATCH = '4';
    try {
      for (const [method, params] of [['occlusion', {}], ['coarse-to-fine', { passBudget: 30 }]] as [string, MethodParams][]) {
        const lines: [number, number][] = [];
        const partials: AttributionResult[] = [];
        const final = await explain({ text: PROMPT, methods: [method], params, target: { kind: 'next-token' }, trust: false }, lm, {
          onPartial: (r) => partials.push(r),
          onProgress: (_d, _t, message) => {
            const m = /(\d+)\/(\d+) passes/.exec(message ?? '');
            if (m) lines.push([Number(m[1]), Number(m[2])]);
          },
        });
        const d = final.runs[0].diagnostics;
        assert.ok(lines.length >= 2 && partials.length >= 1, `${method}: ${lines.length} progress lines, ${partials.length} partials`);
        // The last progress line names every pass the final run counts, and the panel shows that count.
        assert.deepEqual(lines.at(-1), [d.occlusions, d.occlusions], `${method}: last line ${lines.at(-1)} vs ${d.occlusions} occlusion passes`);
        assert.ok(d.forwardPasses >= d.occlusions!, 'shared prefixes only add forward passes');
        for (const p of partials) {
          const pd = p.runs[0].diagnostics;
          assert.equal(pd.occlusions, p.partial!.passes, 'the panel and the partial note count the same passes');
          assert.ok(lines.some(([n, t]) => n === p.partial!.passes && t === p.partial!.totalPasses), `${method}: partial ${p.partial!.passes}/${p.partial!.totalPasses} never in the progress line`);
          assert.ok(pd.forwardPasses >= pd.occlusions! && pd.forwardPasses <= d.forwardPasses);
        }
      }
    } finally {
      if (prev === undefined) delete process.env.PROMPTSCOPE_ITEMS_PER_BATCH;
      else process.env.PROMPTSCOPE_ITEMS_PER_BATCH = prev;
    }
  });
});
