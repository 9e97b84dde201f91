/**
 * Constant shape operands (src/onnx/staticShapes.ts) change which nodes compute a shape, never a value: the gradient
 * graph built with them gives bit-identical outputs to the one built without, with fewer nodes.
 */
import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildGradientModel, type GradientModel } from '../../src/onnx/gradientModel';
import { loadModel } from '../../src/onnx/modelFile';
import { decodeModel } from '../../src/onnx/onnxProto';
import { expandTarget, reshapeTarget } from '../../src/onnx/staticShapes';
import { bundled, realExport } from './fixtures';
import { feedsFor } from './gradientFeeds';

const opCount = (m: GradientModel, op: string): number => (decodeModel(m.bytes).graph!.node ?? []).filter((n) => n.op_type === op).length;

describe('constant shape operands', () => {
  it('pins a Reshape or Expand target from symbolic dims only where it is unambiguous', () => {
    assert.deepEqual(reshapeTarget(['b', 's', 9, 64], ['b', 's', 576]), [0, 0, 9, 64]);
    assert.deepEqual(reshapeTarget(['b', 9, 's', 64], ['b', 3, 3, 's', 64]), [0, 9, -1, 64]);
    assert.equal(reshapeTarget(['b', 's', 576], ['b*s', 576]), undefined, 'two dims to infer');
    assert.equal(reshapeTarget([0, 4], [0, 4]), undefined, 'a size 0 would read as "copy"');
    assert.deepEqual(reshapeTarget([null, 4], [3, 4]), [-1, 4], 'one unknown dim is inferred');
    assert.equal(reshapeTarget([null, null, 4], [3, 4]), undefined, 'two are not');
    assert.deepEqual(expandTarget(['b', 3, 3, 's', 64], ['b', 3, 1, 's', 64]), [1, 1, 3, 1, 1]);
    assert.deepEqual(expandTarget(['b', 's', 576], ['b', 's', 1]), [1, 1, 576]);
    assert.deepEqual(expandTarget([4, 's', 576], ['s', 1]), [4, 1, 576]);
    assert.equal(expandTarget(['b', 's', 576], ['s', 1]), undefined, 'a symbol the input does not have');
    assert.equal(expandTarget(['b', 's'], ['b', 't']), undefined, 'another symbol');
  });

  // The Llama export's attention is un-fused from GroupQueryAttention with a head count shape inference does not learn.
  const models: [string, () => string | undefined, boolean][] = [
    ['promptscope-tiny-lm', () => bundled('promptscope-tiny-lm')?.onnx, true],
    ['genai-tiny-random-llama-fp16', () => realExport('genai-tiny-random-llama-fp16/model.onnx'), false],
  ];
  for (const [name, file, allStatic] of models) {
    it(`${name}: the same outputs, bit for bit, from fewer nodes${allStatic ? ' and no run-time un-broadcasting' : ''}`, async function () {
      const f = file();
      if (!f) this.skip();
      const dynamic = buildGradientModel(loadModel(f!), { kind: 'causal-lm', constantShapes: false, segmentFrom: Infinity });
      const fixed = buildGradientModel(loadModel(f!), { kind: 'causal-lm', segmentFrom: Infinity });
      const nodes = (m: GradientModel): number => decodeModel(m.bytes).graph!.node!.length;
      assert.ok(nodes(fixed) < nodes(dynamic), `${nodes(fixed)} nodes against ${nodes(dynamic)}`);
      assert.ok(opCount(fixed, 'Shape') < opCount(dynamic, 'Shape'), 'fewer Shape nodes');
      if (allStatic) assert.equal(opCount(fixed, 'NonZero'), 0, 'every sum-to-shape decided when the graph is built');
      const options: ort.InferenceSession.SessionOptions = { executionMode: 'sequential', graphOptimizationLevel: 'basic', intraOpNumThreads: 1 };
      const [sa, sb] = [await ort.InferenceSession.create(dynamic.bytes, options), await ort.InferenceSession.create(fixed.bytes, options)];
      for (const [B, seq] of [[2, 9], [2, 5]]) {
        const feeds = feedsFor(fixed, B, seq);
        const [ra, rb] = [await sa.run(feeds), await sb.run(feeds)];
        for (const k of Object.keys(ra)) {
          assert.deepEqual(rb[k].dims, ra[k].dims, k);
          assert.deepEqual(rb[k].data, ra[k].data, `${k} at ${B} × ${seq}`);
        }
        assert.ok((ra.inputs_embeds_grad.data as Float32Array).some((v) => v !== 0));
      }
    });
  }
});
