/**
 * The prediction's pass runs the first occlusion batch alongside the prompt: one run fewer per explain, the same
 * scores as when that batch runs on its own, and the same prediction as the prompt's pass alone.
 */
import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { explain } from '../../src/core/explain';
import { loadModel } from '../../src/runtime/loadedModel';

const text = 'The keeper of the old lighthouse climbed the stairs every evening and lit the lamp before the sun went down.';
const req = { text, methods: ['occlusion'], target: { kind: 'next-token' as const }, trust: false };

async function counted<T>(f: () => Promise<T>): Promise<{ value: T; runs: number }> {
  const proto = (ort.InferenceSession as unknown as { prototype: { run: (...a: unknown[]) => Promise<unknown> } }).prototype;
  const run = proto.run;
  let runs = 0;
  proto.run = function (this: unknown, ...a: unknown[]) {
    runs++;
    return run.apply(this, a);
  };
  try {
    return { value: await f(), runs };
  } finally {
    proto.run = run;
  }
}

describe('prediction and first occlusion batch in one run', function () {
  it('saves a run and changes no score', async function () {
    const lm = await loadModel('promptscope-tiny-lm');
    const together = await counted(() => explain(req, lm));
    const d = together.value.runs[0].diagnostics;
    assert.ok((d.batches ?? 0) >= 3, `batches: ${d.batches}`);
    assert.equal(together.runs, d.batches, 'the prediction runs inside the first batch');
    assert.equal(d.forwardPasses, together.value.input.tokens.filter((t) => !t.special).length, 'one pass per occluded token');

    // The same explain with the first batch run on its own (what was run alongside is not taken).
    const apart = await loadModel('promptscope-tiny-lm');
    apart.runner.takePrecomputed = () => [];
    const separate = await counted(() => explain(req, apart));
    assert.equal(separate.runs, (separate.value.runs[0].diagnostics.batches ?? 0) + 1);
    const a = together.value.runs[0].scores[0], b = separate.value.runs[0].scores[0];
    const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
    assert.ok(worst < 1e-5, `largest score difference ${worst}`);

    // The prediction equals the prompt's pass alone (no prefix cache: nothing runs alongside).
    const saved = process.env.PROMPTSCOPE_PREFIX_CACHE_MB;
    process.env.PROMPTSCOPE_PREFIX_CACHE_MB = '0';
    try {
      const alone = await explain(req, await loadModel('promptscope-tiny-lm'));
      together.value.predictions.forEach((p, i) => {
        assert.equal(p.tokenId, alone.predictions[i].tokenId);
        assert.ok(Math.abs(p.probability - alone.predictions[i].probability) < 1e-6);
      });
      const c = alone.runs[0].scores[0];
      assert.ok(Math.max(...a.map((v, i) => Math.abs(v - c[i]))) < 1e-5, 'scores without any shared pass');
    } finally {
      if (saved === undefined) delete process.env.PROMPTSCOPE_PREFIX_CACHE_MB;
      else process.env.PROMPTSCOPE_PREFIX_CACHE_MB = saved;
    }
    console.log(`      ${together.runs} runs against ${separate.runs}; largest score difference ${worst.toExponential(1)}`);
  });
});
