/**
 * Attention's transposed products as FusedMatMuls (src/onnx/fusedMatMul.ts): the gradient graph built with them gives
 * the outputs of the one built with the written-out Transposes and scale, from fewer nodes, and transposes no weight.
 */
import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildGradientModel, type GradientModel } from '../../src/onnx/gradientModel';
import { loadModel } from '../../src/onnx/modelFile';
import { decodeModel } from '../../src/onnx/onnxProto';
import { bundled, realExport } from './fixtures';
import { feedsFor } from './gradientFeeds';

const count = (m: GradientModel, op: string): number => (decodeModel(m.bytes).graph!.node ?? []).filter((n) => n.op_type === op).length;

describe('attention products as FusedMatMuls', () => {
  const models: [string, () => string | undefined][] = [
    ['promptscope-tiny-lm', () => bundled('promptscope-tiny-lm')?.onnx],
    ['genai-tiny-random-llama-fp16', () => realExport('genai-tiny-random-llama-fp16/model.onnx')],
  ];
  for (const [name, file] of models) {
    it(`${name}: the same scores, gradients and logits rows (1e-6 relative) with fewer Transposes`, async function () {
      const f = file();
      if (!f) this.skip();
      const plain = buildGradientModel(loadModel(f!), { kind: 'causal-lm', fusedMatMuls: false, segmentFrom: Infinity });
      const fused = buildGradientModel(loadModel(f!), { kind: 'causal-lm', segmentFrom: Infinity });
      assert.ok(count(fused, 'FusedMatMul') > 0);
      assert.ok(count(fused, 'Transpose') < count(plain, 'Transpose'), `${count(fused, 'Transpose')} Transposes against ${count(plain, 'Transpose')}`);
      const options: ort.InferenceSession.SessionOptions = { executionMode: 'sequential', graphOptimizationLevel: 'basic', intraOpNumThreads: 1 };
      const [sa, sb] = [await ort.InferenceSession.create(plain.bytes, options), await ort.InferenceSession.create(fused.bytes, options)];
      const feeds = feedsFor(fused, 2, 9);
      const [ra, rb] = [await sa.run(feeds), await sb.run(feeds)];
      for (const k of Object.keys(ra)) {
        assert.deepEqual(rb[k].dims, ra[k].dims, k);
        if (ra[k].type === 'int64') { assert.deepEqual(rb[k].data, ra[k].data, k); continue; }
        const [x, y] = [ra[k].data as Float32Array, rb[k].data as Float32Array];
        const top = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        x.forEach((v, i) => assert.ok(Math.abs(v - y[i]) <= 1e-6 * top, `${k}[${i}]: ${v} vs ${y[i]}`));
      }
    });
  }
});
